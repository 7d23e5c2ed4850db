"""From a question to ranked provisions: query understanding, dense and lexical retrieval, rank fusion."""
