"""The whole demo in one place: organisation, workflow templates, documents and 12 months of history.

Used by ``huitong demo`` and by ``huitong serve`` on first run. Every step is idempotent.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from graph.store import GraphStore
from settings import Settings

Echo = Callable[[str], None]


def load_demo(
    store: GraphStore, settings: Settings, *, documents: int | None = None, index: bool = True,
    history: bool = True, echo: Echo = print,
) -> None:
    """Load every part of the demo; ``documents=None`` means ``settings.demo_documents``, 0 none."""
    from graph.analytics.demo_history import load_demo_history
    from graph.demo_org import load_demo_org
    from graph.workflows.templates import install_templates
    from ingest.demo_docs import load_demo_documents

    org = load_demo_org(store, settings.admin_password.get_secret_value(), settings.demo_password.get_secret_value())
    verb = "loaded" if org.created else "already present (updated in place)"
    echo(f"demo organisation {verb}: {org.departments} departments, {org.people} people")
    if org.admin_password:
        echo(f"admin account: username 'admin', password '{org.admin_password}' (shown once; change it)")

    templates = install_templates(store, now=int(time.time() * 1000))
    echo("workflow templates: " + ", ".join(
        f"{t['key']} v{t['version']}{' (new)' if t['created'] else ''}" for t in templates))

    count = settings.demo_documents if documents is None else max(documents, 0)
    if count:
        result = load_demo_documents(store, settings, count, index=index)
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(result.statuses.items())) or "-"
        echo(f"demo documents: {result.created} created, {result.versions} new versions, "
             f"{result.skipped} already present ({statuses}), {result.chunks} chunks indexed, "
             f"in {result.seconds:.1f} s")
        from ingest.demo_knowledge import load_demo_knowledge

        echo(load_demo_knowledge(store, settings, count).summary())
    if history:
        past = load_demo_history(store)
        echo(f"demo history: {past.created_runs} workflow runs created ({past.skipped_runs} already present), "
             f"{past.tasks} tasks, {past.comments} comments, in {past.seconds:.1f} s")
        from ingest.demo_attachments import attach_demo_files

        files = attach_demo_files(store, settings, index=index)
        echo(f"demo run attachments: {files.files} files for {files.runs} runs, in {files.seconds:.1f} s")
