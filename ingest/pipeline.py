"""The upload pipeline, by step (this module only gathers them for the domain layer's callers):

- :mod:`ingest.uploads`         validate, store the bytes, record the document or version, queue the rest
- :mod:`ingest.processing`      the background step: extract, keep text, status, mentions, index, announce
- :mod:`ingest.index_registry`  the search index of the data directory and the facets it keeps per document
- :mod:`ingest.usecases`        what doors call: upload, download, text, diff, metadata, taking the actor
"""

from ingest.bulk import in_bulk
from ingest.index_registry import index_documents, index_metadata, index_version, refresh_facets, search_index
from ingest.processing import Processed, process_version_now, process_versions_now
from ingest.uploads import Enqueue, Source, StoredUpload, UploadRejected, UploadResult, upload, upload_stored

__all__ = [
    "Enqueue", "Processed", "Source", "StoredUpload", "UploadRejected", "UploadResult", "in_bulk", "index_documents",
    "index_metadata", "index_version", "process_version_now", "process_versions_now", "refresh_facets",
    "search_index", "upload", "upload_stored",
]
