"""The search index: Chroma vectors, BM25, the provision store, built as generations and swapped atomically."""
