"""Where a department may go: under any active department but itself and its own descendants (the tree
would become a loop). Forms and pickers name the new parent by its code; the answer is its id, or a refusal
with a code and parameters the doors word in the reader's language (field ``parent``).

Where the active members of a department being deactivated may go follows the same rule (field
``move_members``): an active department outside the one closing and its subtree, which closes with it or
must close first.

The organisation module keeps its own last-moment check inside the move (the tree may change between the
question and the write); this module is what a person is told first, and what the tree picker greys out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graph import org
from graph.errors import InvalidInput

FIELD = "parent"
UNDER_ITSELF = "department.move_under_itself"
UNDER_DESCENDANT = "department.move_under_descendant"
UNKNOWN_PARENT = "department.parent_unknown"
INACTIVE_PARENT = "department.parent_inactive"
MEMBERS_FIELD = "move_members"
MEMBERS_TO_ITSELF = "department.members_to_itself"
MEMBERS_TO_DESCENDANT = "department.members_to_descendant"
MEMBERS_TO_INACTIVE = "department.members_to_inactive"


@dataclass(frozen=True)
class Rule:
    """One use of the rule: the form field it answers for, and its refusal codes."""

    field: str
    itself: str
    descendant: str
    inactive: str
    target: str  # the parameter naming the chosen department in a refusal beside ``code``


PARENT = Rule(FIELD, UNDER_ITSELF, UNDER_DESCENDANT, INACTIVE_PARENT, "parent")
MEMBERS = Rule(MEMBERS_FIELD, MEMBERS_TO_ITSELF, MEMBERS_TO_DESCENDANT, MEMBERS_TO_INACTIVE, "target")


def subtree(nodes: Mapping[str, org.DeptNode], department_id: str | None) -> set[str]:
    """The ids of a department and everything below it (empty for none: a new department has no subtree)."""
    found: set[str] = set()
    start = nodes.get(department_id or "")
    stack = [start] if start is not None else []
    while stack:
        node = stack.pop()
        if node.row["id"] not in found:  # a damaged tree with a loop still ends
            found.add(node.row["id"])
            stack.extend(node.children)
    return found


def check(nodes: Mapping[str, org.DeptNode], department_id: str | None, parent_id: str | None,
          rule: Rule = PARENT) -> None:
    """Refuse putting ``department_id`` (None: a new department) under ``parent_id`` (None: the top level), or,
    with :data:`MEMBERS`, its members into ``parent_id`` (None: nobody moves)."""
    if not parent_id:
        return
    parent = nodes.get(parent_id)
    if parent is None:
        raise InvalidInput(UNKNOWN_PARENT, field=rule.field, code=parent_id)
    if department_id is not None and parent_id == department_id:
        raise InvalidInput(rule.itself, field=rule.field, code=parent.row["code"])
    if parent_id in subtree(nodes, department_id):
        moving = nodes[department_id or ""].row["code"]  # a subtree holding the parent is a known department's
        raise InvalidInput(rule.descendant, field=rule.field, code=moving, **{rule.target: parent.row["code"]})
    if not parent.row["active"]:
        raise InvalidInput(rule.inactive, field=rule.field, code=parent.row["code"])


def parent_by_code(nodes: Mapping[str, org.DeptNode], department_id: str | None, code: str,
                   rule: Rule = PARENT) -> str | None:
    """The id of the department ``code`` names (blank: the top level, None), checked as the new parent of
    ``department_id`` (or, with :data:`MEMBERS`, as the new department of its members). Codes compare
    without regard to case, as the pickers search them."""
    wanted = " ".join(str(code or "").split()).lower()
    if not wanted:
        return None
    found = [i for i, n in nodes.items() if str(n.row["code"]).lower() == wanted]
    if not found:
        raise InvalidInput(UNKNOWN_PARENT, field=rule.field, code=wanted[:60])
    check(nodes, department_id, found[0], rule)
    return found[0]
