"""Search engine core: chunking, embedding, chunk store, dense + keyword indexes, hybrid retrieval."""

from embeddings.search_index import DocumentHit, Range, SearchIndex, SearchInputError, SearchResults

__all__ = ["DocumentHit", "Range", "SearchIndex", "SearchInputError", "SearchResults"]
