"""How many files a bulk job hands each worker task."""

from ingest.job_model import EMBEDDING_BATCH_FILES, EXTRACTION_BATCH_FILES, JobOptions


def test_jobs_that_embed_take_smaller_batches_than_extraction_only() -> None:
    assert JobOptions(index=True).files_per_batch == EMBEDDING_BATCH_FILES
    assert JobOptions(index=False).files_per_batch == EXTRACTION_BATCH_FILES
    assert EMBEDDING_BATCH_FILES < EXTRACTION_BATCH_FILES


def test_an_explicit_batch_size_wins_and_survives_the_stored_options() -> None:
    assert JobOptions(index=True, batch_files=5).files_per_batch == 5
    assert JobOptions.from_json(JobOptions(index=False, batch_files=7).to_json()).files_per_batch == 7
    assert JobOptions.from_json(JobOptions(index=True).to_json()).files_per_batch == EMBEDDING_BATCH_FILES
    # a job stored before the choice existed kept its 64
    assert JobOptions.from_json('{"index": true, "batch_files": 64}').files_per_batch == 64
