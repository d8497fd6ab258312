"""A write and its audit record are one statement: both are stored or neither (FalkorDB applies a statement
atomically; Neo4j runs it in one transaction)."""

from __future__ import annotations

import json
import uuid

import pytest

from graph import audit
from graph.classification import ShareKind
from graph.cypher import cypher
from graph.errors import GraphError
from graph.falkordb_backend import FalkorStore
from graph.queries import comments as comment_q
from graph.queries import documents as document_q
from graph.queries import org_audited as org_audited_q
from graph.queries import permissions as permission_q
from graph.queries import workflow_audited as workflow_audited_q
from graph.queries import workflows as workflow_q

SEED = cypher("test.audit_atomic.seed", """
    CREATE (:Person {id: 'p-owner', username: 'owner', name: 'Owner', active: true})
    CREATE (:Person {id: 'p-other', username: 'other', name: 'Other', active: true})
    CREATE (d:Document {id: 'doc-1', title: 'Plan', access: 'internal', owner_id: 'p-owner'})
    CREATE (d)-[:CURRENT]->(:Version {id: 'v-1', number: 1})
    """, writes=True)
COMMENT_COUNT = cypher("test.audit_atomic.comments", "MATCH (c:Comment {id: $id}) RETURN count(c) AS n")
SHARE_COUNT = cypher("test.audit_atomic.shares",
                     "MATCH (:Document {id: 'doc-1'})-[s:SHARED_WITH]->(:Person {id: 'p-other'}) RETURN count(s) AS n")
EVENTS = cypher("test.audit_atomic.events",
                "MATCH (e:AuditEvent {action: $action})-[:AUDIT_ON]->(:Document {id: 'doc-1'}) RETURN count(e) AS n")

AUDITED = [comment_q.ADD_DOCUMENT_COMMENT_AUDITED, *permission_q.SHARE_AUDITED.values(),
           *permission_q.UNSHARE_AUDITED.values(), document_q.CREATE_DOCUMENT_AUDITED,
           document_q.UPDATE_METADATA_AUDITED, document_q.UPDATE_METADATA_AND_LEVEL_AUDITED,
           workflow_q.START_RUN_AUDITED, document_q.ADD_VERSION_AUDITED, workflow_q.CLOSE_RUN_AUDITED,
           workflow_audited_q.DECIDE_AUDITED, workflow_audited_q.ASSIGN_AUDITED, workflow_audited_q.NOTE_ON_RUN_AUDITED,
           workflow_audited_q.ADD_COMMENT_AUDITED, org_audited_q.MOVE_DEPARTMENT, org_audited_q.MAKE_DEPARTMENT_ROOT,
           org_audited_q.DEACTIVATE_DEPARTMENT, org_audited_q.PERSON_CREATE, org_audited_q.PERSON_UPDATE,
           org_audited_q.PERSON_SET_ACTIVE,
           *[s for table in (org_audited_q.CREATE, org_audited_q.UPDATE, org_audited_q.SET_ACTIVE,
                             org_audited_q.ADD_MEMBERSHIP, org_audited_q.REMOVE_MEMBERSHIP) for s in table.values()]]


@pytest.mark.parametrize("statement", AUDITED, ids=lambda s: s.name)
def test_the_write_statement_records_its_own_event(statement) -> None:  # type: ignore[no-untyped-def]
    assert statement.writes and statement.text.count("CREATE (audit_event:AuditEvent") == 1


def _comment(store: FalkorStore, comment_id: str, event: audit.Event, audit_id: str | None = None) -> list[dict]:
    params = event.statement_params()
    if audit_id:
        params["audit_id"] = audit_id
    return store.run(comment_q.ADD_DOCUMENT_COMMENT_AUDITED, {
        "document_id": "doc-1", "actor_id": "p-owner", "id": comment_id, "text": "ok", "at": 1, "version_id": None,
        **params})


def test_a_write_whose_audit_record_fails_leaves_no_write(fresh_store: FalkorStore) -> None:
    fresh_store.run(SEED)
    event = audit.Event("document.comment", "p-owner", "document", "doc-1", "test", {"chars": 2})
    first = f"c-{uuid.uuid4().hex}"
    assert _comment(fresh_store, first, event)
    taken = audit.list_events(fresh_store, audit.AuditFilter(action="document.comment"), limit=5)[0]["id"]
    # The next comment's event reuses that id: the event breaks the audit trail's unique key, so the whole
    # statement is refused and the comment is not stored either.
    second = f"c-{uuid.uuid4().hex}"
    with pytest.raises(GraphError):
        _comment(fresh_store, second, event, audit_id=taken)
    assert fresh_store.run(COMMENT_COUNT, {"id": first})[0]["n"] == 1
    assert fresh_store.run(COMMENT_COUNT, {"id": second})[0]["n"] == 0
    assert fresh_store.run(EVENTS, {"action": "document.comment"})[0]["n"] == 1


def test_share_and_unshare_write_their_events_only_when_something_changed(fresh_store: FalkorStore) -> None:
    fresh_store.run(SEED)
    share, unshare = permission_q.SHARE_AUDITED[ShareKind.PERSON], permission_q.UNSHARE_AUDITED[ShareKind.PERSON]
    row = {"document_id": "doc-1", "target_id": "p-other", "access": "read"}
    shared = audit.Event("document.share", "p-owner", "document", "doc-1", "test", {"with": "Person"})
    assert fresh_store.run(share, {"rows": [row], "actor_id": "p-owner", "now": 1, **shared.statement_params()})
    assert fresh_store.run(SHARE_COUNT)[0]["n"] == 1
    assert fresh_store.run(EVENTS, {"action": "document.share"})[0]["n"] == 1
    removed = {"document_id": "doc-1", "target_id": "p-other"}
    for _ in range(2):  # the second finds no share: nothing removed, nothing recorded
        fresh_store.run(unshare, {**removed, **audit.Event("document.unshare", "p-owner", "document", "doc-1",
                                                           "test").statement_params()})
    assert fresh_store.run(SHARE_COUNT)[0]["n"] == 0
    assert fresh_store.run(EVENTS, {"action": "document.unshare"})[0]["n"] == 1


def test_a_new_versions_event_names_the_number_and_the_previous_version(fresh_store: FalkorStore) -> None:
    fresh_store.run(SEED)
    event = audit.Event("document.version", "p-owner", "document", "doc-1", "test",
                        {"version_id": "v-2", "number": document_q.VERSION_NUMBER_MARK,
                         "previous_id": document_q.PREVIOUS_VERSION_MARK,
                         "note": 'quoting "@@number@@" and "@@previous@@"'})
    rows = fresh_store.run(document_q.ADD_VERSION_AUDITED, {
        "document_id": "doc-1", "version_id": "v-2", "author_id": "p-owner", "sha256": "1" * 64, "size": 3,
        "filename": "b.txt", "kind": "txt", "mime": "text/plain", "data_type": "unstructured", "note": "",
        "now": 5, "base": None, **event.statement_params()})
    assert rows[0]["number"] == 2
    recorded = audit.list_events(fresh_store, audit.AuditFilter(action="document.version"), limit=5)
    detail = recorded[0]["detail"]
    detail = json.loads(detail) if isinstance(detail, str) else detail
    assert detail["number"] == 2 and detail["previous_id"] == "v-1" and detail["version_id"] == "v-2"
    assert detail["note"] == 'quoting "@@number@@" and "@@previous@@"'  # a note is never rewritten


TASK_SEED = cypher("test.audit_atomic.task_seed", """
    CREATE (p:Person {id: 'p-approver', username: 'approver', name: 'Approver', active: true})
    CREATE (r:WorkflowRun {id: 'run-1', status: 'running', round: 1})
    CREATE (t:Task {id: 'task-1', status: 'open', kind: 'approval', assignee_id: 'p-approver', run_id: 'run-1'})
    CREATE (t)-[:OF_RUN]->(r)
    CREATE (t)-[:ASSIGNED_TO]->(p)
    """, writes=True)
TASK_STATE = cypher("test.audit_atomic.task_state", """
    MATCH (t:Task {id: 'task-1'})
    OPTIONAL MATCH (d:Decision)-[:ON]->(t)
    RETURN t.status AS status, count(d) AS decisions
    """)
TASK_EVENTS = cypher("test.audit_atomic.task_events",
                     "MATCH (e:AuditEvent {action: $action})-[:AUDIT_ON]->(:Task {id: 'task-1'}) RETURN count(e) AS n")


def _decide(store: FalkorStore, event: audit.Event, audit_id: str | None = None) -> list[dict]:
    params = event.statement_params()
    if audit_id:
        params["audit_id"] = audit_id
    return store.run(workflow_audited_q.DECIDE_AUDITED, {
        "task_id": "task-1", "from_statuses": ["open"], "assignee_id": "p-approver", "actor_id": "p-approver",
        "task": {"status": "done", "outcome": "approved"}, "run": {},
        "decision": {"id": f"d-{uuid.uuid4().hex}", "kind": "approve", "at": 2, "task_id": "task-1",
                     "run_id": "run-1"}, **params})


def test_a_task_decision_whose_audit_record_fails_leaves_the_task_open(fresh_store: FalkorStore) -> None:
    fresh_store.run(TASK_SEED)
    taken = audit.record(fresh_store, action="login.success", actor_id="p-approver", target_kind="person",
                         target_id="p-approver", client="test")
    event = audit.Event("workflow.approve", "p-approver", "task", "task-1", "test", {"run_id": "run-1"}, 2)
    with pytest.raises(GraphError):  # the approval's event clashes with an existing event's id
        _decide(fresh_store, event, audit_id=taken)
    assert fresh_store.run(TASK_STATE)[0] == {"status": "open", "decisions": 0}
    assert fresh_store.run(TASK_EVENTS, {"action": "workflow.approve"})[0]["n"] == 0
    assert _decide(fresh_store, event)  # the same approval with a fresh id: both stored
    assert fresh_store.run(TASK_STATE)[0] == {"status": "done", "decisions": 1}
    assert fresh_store.run(TASK_EVENTS, {"action": "workflow.approve"})[0]["n"] == 1
    assert not _decide(fresh_store, event)  # no longer open: nothing changed, nothing recorded
    assert fresh_store.run(TASK_EVENTS, {"action": "workflow.approve"})[0]["n"] == 1


ORG_SEED = cypher("test.audit_atomic.org_seed", """
    CREATE (:Person {id: 'p-admin', username: 'admin', name: 'Admin', active: true})
    CREATE (:Person {id: 'p-new', username: 'newcomer', name: 'Newcomer', active: true})
    CREATE (:Department {id: 'dep-1', code: 'FIN', name: '财务部', active: true})
    """, writes=True)
MEMBERS = cypher("test.audit_atomic.members",
                 "MATCH (:Person {id: 'p-new'})-[r:MEMBER_OF]->(:Department {id: 'dep-1'}) RETURN count(r) AS n")
PERSON_EVENTS = cypher("test.audit_atomic.person_events", """
    MATCH (e:AuditEvent {action: $action})-[:AUDIT_ON]->(:Person {id: 'p-new'}) RETURN count(e) AS n""")


def test_an_org_change_whose_audit_record_fails_is_not_made(fresh_store: FalkorStore) -> None:
    fresh_store.run(ORG_SEED)
    taken = audit.record(fresh_store, action="login.success", actor_id="p-admin", target_kind="person",
                         target_id="p-admin", client="test")
    event = audit.Event("org.membership.add", "p-admin", "person", "p-new", "test", {"kind": "department"})
    add = org_audited_q.ADD_MEMBERSHIP["department"]
    with pytest.raises(GraphError):
        fresh_store.run(add, {"person_id": "p-new", "target_id": "dep-1", **event.statement_params(),
                              "audit_id": taken})
    assert fresh_store.run(MEMBERS)[0]["n"] == 0
    assert fresh_store.run(PERSON_EVENTS, {"action": "org.membership.add"})[0]["n"] == 0
    assert fresh_store.run(add, {"person_id": "p-new", "target_id": "dep-1", **event.statement_params()})
    assert fresh_store.run(MEMBERS)[0]["n"] == 1
    assert fresh_store.run(PERSON_EVENTS, {"action": "org.membership.add"})[0]["n"] == 1
    removed = audit.Event("org.membership.remove", "p-admin", "person", "p-new", "test", {"kind": "department"})
    remove = org_audited_q.REMOVE_MEMBERSHIP["department"]
    for _ in range(2):  # the second finds nothing to remove: nothing recorded
        fresh_store.run(remove, {"person_id": "p-new", "target_id": "dep-1", **removed.statement_params()})
    assert fresh_store.run(MEMBERS)[0]["n"] == 0
    assert fresh_store.run(PERSON_EVENTS, {"action": "org.membership.remove"})[0]["n"] == 1
