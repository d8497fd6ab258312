"""The one run-visibility rule and workflow attachments as documents, through the web door.

Who may see a run (participants: initiator, copied, deciders, assignees, members of assigned
queues; admins) is also who may comment on it and download its files; anyone else gets the
missing-object answer. Attached files are real documents: stored, readable by the run's
participants through the graph (the "run" permission path) and by nobody else.
"""

from __future__ import annotations

import io

from flask import Flask

from graph import permissions
from graph.cypher import cypher
from graph.falkordb_backend import FalkorStore
from tests.test_workflow_pages import (  # noqa: F401 - wf is a fixture
    COLLEAGUE,
    HEAD,
    INITIATOR,
    OUTSIDER,
    current_tasks,
    expense_form,
    login,
    post,
    same_page,
    start_expense,
    text,
    wf,
)

INVOICE = b"%PDF-1.4 invoice"
RUN_FILES = cypher(
    "test.workflow_attachments.run_files",
    "MATCH (d:Document)-[a:ATTACHED_TO]->(:Task)-[:OF_RUN]->(:WorkflowRun {id: $id}) "
    "RETURN d.id AS id, a.version_id AS version_id",
    example={"id": "r1"},
)
ANY_ATTACHED_RUN = cypher(
    "test.workflow_attachments.any_attached_run",
    "MATCH (:Document)-[:ATTACHED_TO]->(:Task)-[:OF_RUN]->(r:WorkflowRun) RETURN r.id AS run_id LIMIT 1",
)
RUN_INITIATOR = cypher(
    "test.workflow_attachments.run_initiator",
    "MATCH (:WorkflowRun {id: $id})-[:INITIATED_BY]->(p:Person) RETURN p.id AS id",
    example={"id": "r1"},
)
RUN_COUNT = cypher("test.workflow_attachments.run_count", "MATCH (r:WorkflowRun) RETURN count(r) AS n")


def _missing_like(client, real: str, fake: str) -> bool:  # type: ignore[no-untyped-def]
    answer, nothing = client.get(real), client.get(fake)
    return (answer.status_code == nothing.status_code == 404
            and same_page(answer.data.replace(real.encode(), fake.encode()), nothing.data))


def test_past_decider_participant_and_outsider(app: Flask, wf: FalkorStore) -> None:  # noqa: F811 - the imported fixture
    initiator = login(app, wf, INITIATOR)
    run_id = start_expense(initiator)
    (task,) = current_tasks(wf, run_id)
    head = login(app, wf, HEAD)
    assert post(head, f"/workflows/tasks/{task['id']}/approve", {"comment": "ok"}).status_code == 303
    assert all(t["assignee_id"] != HEAD for t in current_tasks(wf, run_id))  # the head is now a past decider

    page = head.get(f"/workflows/runs/{run_id}")
    assert page.status_code == 200 and 'name="comment"' in text(page)  # sees the run and the comment form
    assert post(head, f"/workflows/runs/{run_id}/comment", {"comment": "已审 checked"}).status_code == 303
    assert "已审 checked" in text(initiator.get(f"/workflows/runs/{run_id}"))
    assert 'name="comment"' in text(initiator.get(f"/workflows/runs/{run_id}"))

    for person in (OUTSIDER, COLLEAGUE):  # another department; the initiator's own colleague
        client = login(app, wf, person)
        assert _missing_like(client, f"/workflows/runs/{run_id}", "/workflows/runs/no-such-run"), (
            person, [(t["assignee_kind"], t["assignee_name"]) for t in current_tasks(wf, run_id)],
            client.get(f"/workflows/runs/{run_id}").status_code)
        refused = post(client, f"/workflows/runs/{run_id}/comment", {"comment": "psst"})
        assert refused.status_code == 404 and "psst" not in text(refused)
    assert "psst" not in text(initiator.get(f"/workflows/runs/{run_id}"))


def test_attachment_is_a_document_for_participants_only(app: Flask, wf: FalkorStore) -> None:  # noqa: F811 - the imported fixture
    # Readable sets built before the run exists: the attachment then reaches them as a change, not a rebuild.
    for person in (HEAD, OUTSIDER, COLLEAGUE):
        permissions.readable_document_ids(wf, person)
    initiator = login(app, wf, INITIATOR)
    run_id = start_expense(initiator)
    files = wf.run(RUN_FILES, {"id": run_id})
    assert len(files) == 1
    document_id = files[0]["id"]
    url = f"/workflows/runs/{run_id}/files/{document_id}"
    assert url in text(initiator.get(f"/workflows/runs/{run_id}"))  # downloadable from the run page

    head = login(app, wf, HEAD)
    download = head.get(url)
    assert download.status_code == 200 and download.data == INVOICE
    access = permissions.can_read(wf, HEAD, document_id)
    assert access.allowed and access.reason_kind == "run"
    assert document_id in permissions.readable_document_ids(wf, HEAD)  # what search filters on

    for person in (OUTSIDER, COLLEAGUE):
        client = login(app, wf, person)
        assert _missing_like(client, url, f"/workflows/runs/{run_id}/files/no-such-document")
        assert not permissions.can_read(wf, person, document_id).allowed
        assert document_id not in permissions.readable_document_ids(wf, person)


def test_required_attachment_needs_a_real_file(app: Flask, wf: FalkorStore) -> None:  # noqa: F811 - the imported fixture
    initiator = login(app, wf, INITIATOR)
    before = wf.run(RUN_COUNT)[0]["n"]
    for invoice in ((io.BytesIO(b""), "empty.pdf"), None):
        form = expense_form()
        if invoice is None:
            form.pop("f.invoice")
        else:
            form["f.invoice"] = invoice
        refused = post(initiator, "/workflows/expense/start", form, "/workflows/expense/start")
        assert refused.status_code == 422
        assert ("empty" in text(refused)) if invoice else ("required" in text(refused))
    assert wf.run(RUN_COUNT)[0]["n"] == before


def test_demo_runs_that_require_files_get_real_ones(settings, fresh_store: FalkorStore) -> None:  # type: ignore[no-untyped-def]
    from graph.analytics.demo_history import load_demo_history
    from graph.demo_org import load_demo_org
    from graph.workflows import usecases
    from ingest.demo_attachments import attach_demo_files
    from tests.test_workflow_pages import ADMIN_PASSWORD

    load_demo_org(fresh_store, ADMIN_PASSWORD)
    load_demo_history(fresh_store, scale=0.02)
    assert usecases.runs_needing_files(fresh_store)  # the history's runs come without files
    done = attach_demo_files(fresh_store, settings, index=False, limit=10_000)
    assert done.runs > 0 and done.files >= done.runs
    assert usecases.runs_needing_files(fresh_store) == []
    run_id = fresh_store.run(ANY_ATTACHED_RUN)[0]["run_id"]
    attached = fresh_store.run(RUN_FILES, {"id": run_id})[0]
    initiator = fresh_store.run(RUN_INITIATOR, {"id": run_id})[0]["id"]
    assert permissions.can_read(fresh_store, initiator, attached["id"]).allowed
    again = attach_demo_files(fresh_store, settings, index=False, limit=10_000)
    assert (again.runs, again.files) == (0, 0)  # a rerun adds nothing


DOCUMENT_COUNT = cypher("test.workflow_attachments.document_count", "MATCH (d:Document) RETURN count(d) AS n")


def test_a_refused_form_stores_none_of_its_files(app: Flask, wf: FalkorStore) -> None:  # noqa: F811 - the imported fixture
    """Checked with the files by name first: refusals leave no orphan documents behind."""
    initiator = login(app, wf, INITIATOR)
    runs_before, documents_before = wf.run(RUN_COUNT)[0]["n"], wf.run(DOCUMENT_COUNT)[0]["n"]
    bad_amount = {**expense_form(), "f.amount": "not a number"}
    refused = post(initiator, "/workflows/expense/start", bad_amount, "/workflows/expense/start")
    assert refused.status_code == 422
    # one empty file among real ones: none of them is stored
    two = {**expense_form(), "f.invoice": [(io.BytesIO(INVOICE), "a.pdf"), (io.BytesIO(b""), "b.pdf")]}
    assert post(initiator, "/workflows/expense/start", two, "/workflows/expense/start").status_code == 422
    assert (wf.run(RUN_COUNT)[0]["n"], wf.run(DOCUMENT_COUNT)[0]["n"]) == (runs_before, documents_before)

    run_id = start_expense(initiator)  # the same form, valid, stores its file (and only it)
    assert wf.run(DOCUMENT_COUNT)[0]["n"] == documents_before + 1
    (task,) = current_tasks(wf, run_id)
    outsider = login(app, wf, OUTSIDER)  # not the assignee: refused before any file of theirs is stored
    refused = post(outsider, f"/workflows/tasks/{task['id']}/approve", {"comment": "x", "a.receipt": (
        io.BytesIO(INVOICE), "receipt.pdf")})
    assert refused.status_code in (403, 404)
    assert wf.run(DOCUMENT_COUNT)[0]["n"] == documents_before + 1
