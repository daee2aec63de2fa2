"""Training: the retriever (bi-encoder), the reranker, and retrieval-aware fine-tuning of LLMs."""
