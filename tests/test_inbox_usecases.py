"""The inbox as a use case (graph.workflows.inbox.inbox_page / badge) and its order: overdue first, then by
deadline, where an item without one counts as due three days after it was created."""

from __future__ import annotations

import pytest

from graph import audit
from graph.actor import Actor
from graph.cypher import cypher
from graph.errors import InvalidInput, NotPermitted, ObjectMissing
from graph.falkordb_backend import FalkorStore
from graph.workflows import inbox, reminders

HOUR = 3_600_000
DAY = 24 * HOUR
NOW = 1_800_000_000_000

SEED = cypher("test.inbox_order.seed", """
    CREATE (p:Person {id: $person_id, username: 'inbox.owner', name: 'Inbox Owner', active: true})
    WITH p
    UNWIND $tasks AS row
    CREATE (t:Task {id: row.id, title: row.id, status: 'open', kind: 'approval', created_at: row.created_at,
                    workflow_key: 'expense', search: row.id})
    SET t.due_at = row.due_at
    CREATE (t)-[:ASSIGNED_TO]->(p)
    """, writes=True)

TASKS = [  # id, created, due
    ("far", NOW - HOUR, NOW + 90 * DAY),
    ("undated-new", NOW - HOUR, None),
    ("soon", NOW - 2 * DAY, NOW + DAY),
    ("overdue", NOW - 5 * DAY, NOW - HOUR),
    ("undated-old", NOW - 10 * DAY, None),
    ("later", NOW - HOUR, NOW + 5 * DAY),
]


@pytest.fixture
def owner(fresh_store: FalkorStore) -> Actor:
    fresh_store.run(SEED, {"person_id": "p-inbox", "tasks": [
        {"id": i, "created_at": c, "due_at": d} for i, c, d in TASKS]})
    return Actor("p-inbox", "inbox.owner", "Inbox Owner", door="api")


def test_overdue_first_then_deadlines_with_undated_tasks_interleaved(fresh_store: FalkorStore, owner: Actor) -> None:
    page = inbox.inbox_page(fresh_store, owner, "mine", now=NOW, approvable=False)
    # the old undated task waited longest: first of what is not overdue; the new one ranks as due in 3 days,
    # after tomorrow's deadline and before the one in 5 days and the one in 90.
    assert [t["id"] for t in page.rows] == ["overdue", "undated-old", "soon", "undated-new", "later", "far"]
    assert page.rows[0]["overdue"] is True and page.rows[1]["overdue"] is False and not page.has_next


def test_paging_and_the_badge(fresh_store: FalkorStore, owner: Actor) -> None:
    first = inbox.inbox_page(fresh_store, owner, now=NOW, per_page=4, approvable=False)
    second = inbox.inbox_page(fresh_store, owner, now=NOW, page=2, per_page=4, approvable=False)
    assert first.has_next and not second.has_next
    assert [t["id"] for t in first.rows + second.rows][-2:] == ["later", "far"]
    badge = inbox.badge(fresh_store, owner, now=NOW)
    assert badge["mine"] == len(TASKS) and badge["overdue"] == 1 and badge["unread"] == 0


def test_refusals(fresh_store: FalkorStore, owner: Actor) -> None:
    with pytest.raises(InvalidInput) as bad:
        inbox.inbox_page(fresh_store, owner, "everything", now=NOW)
    assert bad.value.code == "inbox.bad_tab" and bad.value.params["field"] == "tab"
    with pytest.raises(ObjectMissing):  # the scheduler or an operator has no inbox
        inbox.inbox_page(fresh_store, Actor("", "operator", door="cli"), now=NOW)
    stranger = Actor("p-other", "other", door="web")
    assert inbox.inbox_page(fresh_store, stranger, now=NOW, approvable=False).rows == []  # only one's own tasks


def test_the_reminder_scan_is_the_schedulers_and_audits_each_overdue_task_once(fresh_store: FalkorStore,
                                                                                 owner: Actor) -> None:
    with pytest.raises(NotPermitted):  # an ordinary person cannot trigger it
        reminders.scan(fresh_store, None, owner, now=NOW)
    created = reminders.scan(fresh_store, None, reminders.scheduler(), now=NOW)
    assert ("overdue", "overdue", "p-inbox") in {(n["kind"], n["task_id"], n["person_id"]) for n in created}
    assert reminders.scan(fresh_store, None, reminders.scheduler(), now=NOW) == []  # nothing twice
    events = audit.list_events(fresh_store, audit.AuditFilter(action="task.overdue"), limit=10)
    assert [e["target_id"] for e in events] == ["overdue"]
    assert inbox.badge(fresh_store, owner, now=NOW)["unread"] >= 1
