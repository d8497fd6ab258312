"""What people do to a whole run: comment on it, withdraw it.

Who takes part in a run is the ONE rule of :mod:`graph.queries.run_participation` (initiator,
copied people, deciders, assignees and members of assigned queues; administrators too).
"""

from __future__ import annotations

from dataclasses import replace

from graph import audit
from graph.analytics import cache
from graph.queries import workflow_access as aq
from graph.queries import workflow_audited as audited_q
from graph.queries import workflows as q
from graph.store import GraphStore
from graph.workflows.actions import ACTING_KINDS, _require_comment, _run_context, _seq
from graph.workflows.errors import Conflict, NotAllowed, NotFound
from graph.workflows.runs import new_id, person


def takes_part(store: GraphStore, run_id: str, person_id: str) -> bool:
    """The run-visibility rule for one person (an unknown run raises ``NotFound``)."""
    rows = store.run(aq.RUN_PARTICIPANT, {"run_id": run_id, "person_id": person_id})
    if not rows:
        _run_context(store, run_id)  # raises NotFound for a missing run
        return False
    return rows[0]["active"] is True and bool(rows[0]["participant"] or rows[0]["admin"])


def comment(store: GraphStore, run_id: str, actor_id: str, text: str, *, now: int, task_id: str | None = None,
            event: audit.Event | None = None) -> str:
    """Comment on a run (optionally on one of its tasks): participants only. ``event``: its audit record
    (given the new comment's id), written by the same statement as the comment."""
    if not takes_part(store, run_id, actor_id):
        raise NotAllowed(f"{actor_id} takes no part in this run")
    _require_comment(text)
    view = _run_context(store, run_id)
    if task_id is not None and task_id not in {t["id"] for t in view["tasks"]}:
        raise NotFound(f"task {task_id!r} is not part of this run")
    comment_id = new_id()
    if event is not None:
        event = replace(event, detail={**dict(event.detail or {}), "comment_id": comment_id})  # type: ignore[arg-type]
    rows = audit.run_audited(store, q.ADD_COMMENT, audited_q.ADD_COMMENT_AUDITED, {
        "run_id": run_id, "actor_id": actor_id, "task_id": task_id,
        "comment": {"id": comment_id, "text": text.strip(), "at": now, "run_id": run_id, "task_id": task_id,
                    "author_id": actor_id}}, event)
    return str(rows[0]["id"])


def withdraw(store: GraphStore, run_id: str, actor_id: str, *, now: int, reason: str = "",
             event: audit.Event | None = None) -> None:
    """The initiator withdraws a run nobody has acted on yet (or one sent back to them for revision).
    ``event``: its audit record, written by the same statement as the withdrawal."""
    view = _run_context(store, run_id)
    run = view["run"]
    if run["initiator_id"] != actor_id:
        raise NotAllowed("only the initiator may withdraw a run")
    if view["definition"] and not view["definition"]["allow_withdraw"]:
        raise NotAllowed("this workflow does not allow withdrawal")
    if run["status"] == "running":
        acted = store.run(q.RUN_ACTED, {"run_id": run_id, "kinds": list(ACTING_KINDS)})
        if acted and acted[0]["acted"]:
            raise Conflict("somebody has already acted on this run: it can no longer be withdrawn")
    elif run["status"] != "revising":
        raise Conflict(f"a {run['status']} run cannot be withdrawn")
    actor = person(store, actor_id)
    decision = {"id": new_id(), "kind": "withdraw", "at": now, "seq": next(_seq), "comment": reason.strip(),
                "run_id": run_id, "actor_id": actor_id, "actor_name": actor["name"]}
    params = {"run_id": run_id, "round": run["round"], "actor_id": actor_id, "now": now,
              "run": {"status": "withdrawn", "outcome": "withdrawn", "ended_at": now, "due_at": None,
                      "current_step": None},
              "decision": decision}
    if event is None:
        rows = store.run(q.CLOSE_RUN, params)
    else:
        rows = store.run(q.CLOSE_RUN_AUDITED, {**params, **event.statement_params()})
    if not rows:
        raise Conflict("the run moved on meanwhile: reload it and try again")
    cache.bump(store)
