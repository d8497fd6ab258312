"""Who gains and who loses access to how many documents, before an organisation change is applied.

A reorganisation changes people's *principals* (their active department chain, projects, positions,
admin role, whether they are active) and never a document's shares. So the readable set of a
person after the change is the union of the permission cache's per-principal bitmaps for the
principals they WOULD have: the same union :mod:`graph.permissions` takes for real. The preview
therefore computes, for each person, the principals before (the graph now, as a
:class:`graph.org_export.Snapshot`) and after (that snapshot with the change applied in memory),
and only for people whose principals differ compares the two unions. Nothing is written.

The rule for principals mirrors ``permissions.principals``: a department counts when the person is
a member of it or of a sub-department AND every department on the way up is active; a project
counts when it is active; a position always; an admin reads everything; an inactive person nothing.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyroaring import BitMap

from graph import permissions
from graph.org_export import Snapshot, snapshot
from graph.queries import org_impact as q
from graph.store import GraphStore

EXAMPLES = 3  # titles shown per person and direction
NOBODY = "org-impact:nobody"  # a person id that does not exist: its readable set carries the cache's index


@dataclass(frozen=True)
class Reach:
    """What decides a person's readable set: active, admin, and the principal keys of the cache."""

    active: bool
    admin: bool
    keys: frozenset[tuple[str, str]]


@dataclass
class PersonChange:
    person_id: str
    username: str
    name: str
    gained: int
    lost: int
    gained_examples: list[dict[str, str]] = field(default_factory=list)
    lost_examples: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"person_id": self.person_id, "username": self.username, "name": self.name, "gained": self.gained,
                "lost": self.lost, "gained_examples": self.gained_examples, "lost_examples": self.lost_examples}


@dataclass
class Impact:
    changes: list[PersonChange]

    @property
    def gained(self) -> int:
        return sum(c.gained for c in self.changes)

    @property
    def lost(self) -> int:
        return sum(c.lost for c in self.changes)

    def as_json(self) -> list[dict[str, Any]]:
        return [c.as_json() for c in self.changes]


def _memberships_by_person(snap: Snapshot) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for username, kind, code in snap.memberships:
        found[username].append((kind, code))
    return found


def reach(snap: Snapshot, username: str, memberships: Mapping[str, list[tuple[str, str]]] | None = None) -> Reach:
    """The principals ``username`` has in ``snap`` (natural keys resolved to the graph's ids).

    ``memberships`` is ``snap``'s memberships by person, when the caller asks for many people.
    """
    person = snap.people.get(username)
    if person is None or person["active"] is not True:
        return Reach(False, False, frozenset())
    departments = snap.coded["departments"]
    keys: set[tuple[str, str]] = {("Person", person["id"]), ("owner", person["id"]), ("public", "")}
    mine = (memberships if memberships is not None else _memberships_by_person(snap)).get(username, [])
    for kind, code in mine:
        if kind == "department":
            seen: set[str] = set()
            current = code
            while current and current not in seen and current in departments and departments[current]["active"]:
                seen.add(current)  # a cycle cannot be stored, but a bad plan must not loop forever
                keys.add(("Department", departments[current]["id"]))
                current = departments[current]["parent_code"]
        elif kind == "project":
            project = snap.coded["projects"].get(code)
            if project is not None and project["active"]:
                keys.add(("Project", project["id"]))
        elif kind == "position":
            position = snap.coded["positions"].get(code)
            if position is not None:
                keys.add(("Position", position["id"]))
    return Reach(True, "admin" in person["roles"], frozenset(keys))


def compare(store: GraphStore, before: Snapshot, after: Snapshot, *, examples: int = EXAMPLES) -> Impact:
    """Per person whose readable set would change: how many documents gained and lost, with a few titles."""
    numbering = permissions.readable_set(store, NOBODY).numbering
    changes: list[PersonChange] = []
    wanted: set[str] = set()
    was_in, will_be_in = _memberships_by_person(before), _memberships_by_person(after)
    for username in sorted(set(before.people) | set(after.people)):
        old, new = reach(before, username, was_in), reach(after, username, will_be_in)
        if old == new:
            continue
        was, will = _bitmap(numbering, old), _bitmap(numbering, new)
        gained, lost = will - was, was - will
        if not gained and not lost:
            continue
        record = after.people.get(username) or before.people[username]
        change = PersonChange(record["id"], username, record["name"], len(gained), len(lost),
                              [{"id": numbering.ids[n]} for n in list(gained)[:examples]],
                              [{"id": numbering.ids[n]} for n in list(lost)[:examples]])
        wanted.update(e["id"] for e in change.gained_examples + change.lost_examples)
        changes.append(change)
    rows = store.run(q.DOCUMENT_TITLES, {"ids": sorted(wanted)}) if wanted else []
    titles = {row["id"]: row["title"] for row in rows}
    for change in changes:
        for example in change.gained_examples + change.lost_examples:
            example["title"] = titles.get(example["id"]) or example["id"]
    return Impact(changes)


def _bitmap(numbering: Any, person: Reach) -> BitMap:
    if not person.active:
        return BitMap()
    if person.admin:
        return BitMap(numbering.all_docs)
    maps = [numbering.bitmaps[k] for k in person.keys if k in numbering.bitmaps]
    return BitMap.union(*maps) if maps else BitMap()


# -- the changes an administrator makes one at a time ---------------------------------------------------


def _code_of(snap: Snapshot, sheet: str, entity_id: str) -> str | None:
    return next((code for code, record in snap.coded[sheet].items() if record["id"] == entity_id), None)


def _username_of(snap: Snapshot, person_id: str) -> str | None:
    return next((u for u, record in snap.people.items() if record["id"] == person_id), None)


def _after(store: GraphStore) -> tuple[Snapshot, Snapshot]:
    before = snapshot(store)
    return before, copy.deepcopy(before)


def preview_move(store: GraphStore, department_id: str, parent_id: str | None) -> Impact:
    """Moving a department (with its whole subtree) under ``parent_id``, or making it a root."""
    before, after = _after(store)
    code = _code_of(after, "departments", department_id)
    if code is not None:
        after.coded["departments"][code]["parent_code"] = _code_of(after, "departments", parent_id or "") or ""
    return compare(store, before, after)


def preview_status(store: GraphStore, kind: str, entity_id: str, active: bool,
                   move_members_to: str | None = None) -> Impact:
    """(De)activating a department, project or position; a deactivated department's members may move first."""
    before, after = _after(store)
    sheet = f"{kind}s"
    code = _code_of(after, sheet, entity_id) if sheet in after.coded else None
    if code is None:
        return Impact([])
    after.coded[sheet][code]["active"] = active
    target = _code_of(after, "departments", move_members_to or "") if kind == "department" else None
    if target is not None:
        moved = {m for m in after.memberships if m[1] == "department" and m[2] == code
                 and after.people.get(m[0], {}).get("active") is True}
        after.memberships = (after.memberships - moved) | {(u, k, target) for u, k, _ in moved}
    return compare(store, before, after)


def preview_membership(store: GraphStore, person_id: str, kind: str, *, code: str = "", target_id: str = "",
                       add: bool) -> Impact:
    """A person joining (``add``) or leaving a department, project or position (by ``code`` or ``target_id``)."""
    before, after = _after(store)
    username = _username_of(after, person_id)
    sheet = "departments" if kind == "head" else f"{kind}s"
    if not code and sheet in after.coded:
        code = _code_of(after, sheet, target_id) or ""
    if username is None or not code:
        return Impact([])
    membership = (username, kind, code)
    after.memberships = after.memberships | {membership} if add else after.memberships - {membership}
    return compare(store, before, after)


def preview_person_active(store: GraphStore, person_id: str, active: bool) -> Impact:
    before, after = _after(store)
    username = _username_of(after, person_id)
    if username is not None:
        after.people[username]["active"] = active
    return compare(store, before, after)
