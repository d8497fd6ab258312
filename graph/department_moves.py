"""Where a department may go: under any active department but itself and its own descendants (the tree
would become a loop). Forms and pickers name the new parent by its code; the answer is its id, or a refusal
with a code and parameters the doors word in the reader's language (field ``parent``).

The organisation module keeps its own last-moment check inside the move (the tree may change between the
question and the write); this module is what a person is told first, and what the tree picker greys out.
"""

from __future__ import annotations

from collections.abc import Mapping

from graph import org
from graph.errors import InvalidInput

FIELD = "parent"
UNDER_ITSELF = "department.move_under_itself"
UNDER_DESCENDANT = "department.move_under_descendant"
UNKNOWN_PARENT = "department.parent_unknown"
INACTIVE_PARENT = "department.parent_inactive"


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


def check(nodes: Mapping[str, org.DeptNode], department_id: str | None, parent_id: str | None) -> None:
    """Refuse putting ``department_id`` (None: a new department) under ``parent_id`` (None: the top level)."""
    if not parent_id:
        return
    parent = nodes.get(parent_id)
    if parent is None:
        raise InvalidInput(UNKNOWN_PARENT, field=FIELD, code=parent_id)
    if department_id is not None and parent_id == department_id:
        raise InvalidInput(UNDER_ITSELF, field=FIELD, code=parent.row["code"])
    if parent_id in subtree(nodes, department_id):
        moving = nodes[department_id or ""].row["code"]  # a subtree holding the parent is a known department's
        raise InvalidInput(UNDER_DESCENDANT, field=FIELD, code=moving, parent=parent.row["code"])
    if not parent.row["active"]:
        raise InvalidInput(INACTIVE_PARENT, field=FIELD, code=parent.row["code"])


def parent_by_code(nodes: Mapping[str, org.DeptNode], department_id: str | None, code: str) -> str | None:
    """The id of the department ``code`` names (blank: the top level, None), checked as the new parent of
    ``department_id``. Codes compare without regard to case, as the pickers search them."""
    wanted = " ".join(str(code or "").split()).lower()
    if not wanted:
        return None
    found = [i for i, n in nodes.items() if str(n.row["code"]).lower() == wanted]
    if not found:
        raise InvalidInput(UNKNOWN_PARENT, field=FIELD, code=wanted[:60])
    check(nodes, department_id, found[0])
    return found[0]
