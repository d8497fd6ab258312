"""Search engine core: chunking, embedding, chunk store, dense + keyword indexes, hybrid retrieval."""

from embeddings.search_index import DocumentHit, DocumentInput, Range, SearchIndex, SearchInputError, SearchResults

__all__ = ["DocumentHit", "DocumentInput", "Range", "SearchIndex", "SearchInputError", "SearchResults"]
