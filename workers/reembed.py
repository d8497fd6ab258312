"""Celery task: move the search index to the configured embedding model in the background.

Beat enqueues it every minute; each run embeds for a bounded time and queues the next run itself
while work is left, so a worker is never held for hours and a killed run simply resumes. Search
answers from the previous model's vectors until the new index is complete (embeddings.model_switch).
"""

from __future__ import annotations

from workers.celery_app import app

SLICE_SECONDS = 50.0
EVERY_SECONDS = 60.0


@app.task(name="huitong.reembed", ignore_result=False)
def reembed(seconds: float = SLICE_SECONDS) -> dict[str, object]:
    """One slice of re-embedding; queues the next slice while the switch is not complete."""
    from embeddings.reembed import reembed_slice
    from settings import get_settings

    settings = get_settings()
    progress = reembed_slice(settings.data_dir, settings.embedding_model, seconds)
    if progress.switching and progress.done < progress.total:
        reembed.apply_async(kwargs={"seconds": seconds}, expires=10 * EVERY_SECONDS)
    return progress.as_json()
