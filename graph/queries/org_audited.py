"""Organisation changes that record their own audit event (:func:`graph.queries.audit.audited`): creating,
editing and (de)activating departments, positions and projects, moving a department, creating, editing and
(de)activating people, and adding or removing memberships. The change and its ``org.*`` event are stored
together or not at all; a statement that changes nothing (no row) records nothing."""

from graph.cypher import Statement
from graph.queries import org_admin as q
from graph.queries.audit import audited

_BUMP = "WITH collect(DISTINCT 'principals') AS changes"  # where a change of who-is-where is recorded
_BUMP_PEOPLE = "WITH collect(DISTINCT p.id) AS people"

CREATE: dict[str, Statement] = {
    kind: audited(s.create, before="RETURN n.id AS id", carry="n", kind=kind) for kind, s in q.CODED.items()}
UPDATE: dict[str, Statement] = {
    kind: audited(s.update, before="RETURN n.id AS id", carry="n", kind=kind) for kind, s in q.CODED.items()}
SET_ACTIVE: dict[str, Statement] = {
    kind: audited(s.set_active, before=_BUMP if _BUMP in s.set_active.text else "RETURN n.id AS id", carry="n",
                  kind=kind)
    for kind, s in q.CODED.items()}
MOVE_DEPARTMENT = audited(q.MOVE_DEPARTMENT, before=_BUMP, carry="d", kind="department")
MAKE_DEPARTMENT_ROOT = audited(q.MAKE_DEPARTMENT_ROOT, before=_BUMP, carry="d", kind="department")
DEACTIVATE_DEPARTMENT = audited(q.DEACTIVATE_DEPARTMENT, before=_BUMP, carry="d", kind="department")
PERSON_CREATE = audited(q.PERSON_CREATE, before=_BUMP_PEOPLE, carry="p", kind="person")
PERSON_UPDATE = audited(q.PERSON_UPDATE, before="RETURN p.id AS id", carry="p", kind="person")
PERSON_SET_ACTIVE = audited(q.PERSON_SET_ACTIVE, before=_BUMP_PEOPLE, carry="p", kind="person")
ADD_MEMBERSHIP: dict[str, Statement] = {
    kind: audited(s.add, before=_BUMP_PEOPLE, carry="p", kind="person") for kind, s in q.MEMBERSHIPS.items()}
REMOVE_MEMBERSHIP: dict[str, Statement] = {
    kind: audited(s.remove, before=_BUMP_PEOPLE, carry="p", kind="person") for kind, s in q.MEMBERSHIPS.items()}
