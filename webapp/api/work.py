"""``/api/v1`` workflows, tasks, decisions, notifications and the organisation (read): thin doors over
:mod:`graph.workflows.usecases`, :mod:`graph.decisions` and :mod:`graph.usecases`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from graph import accounts, decisions
from graph.analytics import trend_words
from graph.usecases import browse
from graph.usecases import notifications as notices
from graph.workflows import actions, inbox, runs
from graph.workflows import usecases as flows
from webapp import services
from webapp.api import models as m
from webapp.api.core import actor, operation, page_links
from webapp.views import manage_words

MISSING = {404: m.Problem}


def now_ms() -> int:
    return int(time.time() * 1000)


def _paged(rows: list[Any], page: int, per_page: int) -> dict[str, Any]:
    """One page of rows fetched up to ``page * per_page + 1`` (the extra row says whether a next page exists)."""
    start = (page - 1) * per_page
    items = rows[start:start + per_page]
    return {"items": items, "page": page, "per_page": per_page,
            "next": page_links(page, per_page, len(rows) > start + per_page)}


# -- workflows and tasks ---------------------------------------------------------------------------------


@operation("GET", "/workflows", summary="Published workflow definitions", tag="workflows",
           responses={200: m.Workflows})
def workflows() -> ResponseReturnValue:
    return jsonify(items=runs.list_workflows(services.store()))


@operation("POST", "/workflows/<key>/runs", summary="Start a run of a workflow", tag="workflows", body=m.RunIn,
           responses={201: m.RunStarted, 400: m.Problem, 403: m.Problem, 409: m.Problem, **MISSING})
def start_run(key: str, body: m.RunIn) -> ResponseReturnValue:
    run_id = flows.start_run(services.store(), actor(), key, body.values, now=now_ms(), title=body.title)
    return jsonify(run_id=run_id), 201


@operation("GET", "/tasks", summary="My open tasks", tag="workflows", query=m.TaskQuery,
           responses={200: m.TaskPage, 400: m.Problem})
def my_tasks(query: m.TaskQuery) -> ResponseReturnValue:
    found = inbox.inbox_page(services.store(), actor(), "mine", now=now_ms(), search=query.q, page=query.page,
                             per_page=query.per_page, approvable=False)
    return jsonify(items=found.rows, page=query.page, per_page=query.per_page,
                   next=page_links(query.page, query.per_page, found.has_next))


Handler = Callable[[Any, str, str, int, m.TaskAction, Any], Any]
ACTIONS: dict[str, Handler] = {
    "approve": lambda s, t, me, now, a, e: actions.approve(s, t, me, now=now, comment=a.comment,
                                                           values=a.values or None, event=e),
    "reject": lambda s, t, me, now, a, e: actions.reject(s, t, me, now=now, comment=a.comment, event=e),
    "return": lambda s, t, me, now, a, e: actions.return_task(s, t, me, now=now, comment=a.comment,
                                                              to_step=a.to_step, event=e),
    "claim": lambda s, t, me, now, a, e: actions.claim(s, t, me, now=now, event=e),
    "request_info": lambda s, t, me, now, a, e: actions.request_info(s, t, me, now=now, question=a.comment, event=e),
    "provide_info": lambda s, t, me, now, a, e: actions.provide_info(s, t, me, now=now, answer=a.comment, event=e),
    "urge": lambda s, t, me, now, a, e: actions.urge(s, t, me, now=now, comment=a.comment, event=e),
}


@operation("POST", "/tasks/<task_id>/actions", summary="Act on a task (approve, reject, return, claim, ...)",
           tag="workflows", body=m.TaskAction,
           responses={200: m.Acted, 400: m.Problem, 403: m.Problem, 409: m.Problem, **MISSING})
def act(task_id: str, body: m.TaskAction) -> ResponseReturnValue:
    store, who, now = services.store(), actor(), now_ms()
    handler = ACTIONS[body.action]
    run_id = flows.act(store, who, task_id, body.action,
                       lambda event: handler(store, task_id, who.person_id, now, body, event), now=now)
    return jsonify(run_id=run_id, task_id=task_id, action=body.action)


# -- decisions ---------------------------------------------------------------------------------------------


@operation("GET", "/decisions", summary="Decisions the caller may see, newest first (or matching q)",
           tag="decisions", query=m.DecisionQuery, responses={200: m.DecisionPage, 400: m.Problem})
def list_decisions(query: m.DecisionQuery) -> ResponseReturnValue:
    wanted = query.page * query.per_page + 1
    store, who = services.store(), actor()
    rows = (decisions.search(store, who, query.q, limit=wanted) if query.q and query.q.strip()
            else decisions.latest(store, who, limit=wanted))
    return jsonify(_paged(rows, query.page, query.per_page))


@operation("GET", "/decisions/<decision_id>", summary="One decision with what it rests on", tag="decisions",
           responses={200: m.DecisionItem, **MISSING})
def get_decision(decision_id: str) -> ResponseReturnValue:
    return jsonify(decisions.get(services.store(), actor(), decision_id))


@operation("POST", "/decisions", summary="Record a decision", tag="decisions", body=m.DecisionIn,
           responses={201: m.DecisionItem, 400: m.Problem, 403: m.Problem, **MISSING})
def record_decision(body: m.DecisionIn) -> ResponseReturnValue:
    made = decisions.record(services.store(), actor(), title=body.title, text=body.text, decided_on=body.decided_on,
                            affects=body.affects, based_on=body.based_on)
    return jsonify(made), 201


# -- notifications -----------------------------------------------------------------------------------------


@operation("GET", "/notifications", summary="My notifications, newest first", tag="notifications",
           query=m.NotificationQuery, responses={200: m.NotificationPage, 400: m.Problem})
def notifications(query: m.NotificationQuery) -> ResponseReturnValue:
    wanted = min(query.page * query.per_page + 1, notices.LIMIT * 10)
    rows = notices.notifications(services.context(), actor(), unread_only=query.unread, limit=wanted)
    return jsonify(_paged([_worded(r) for r in rows], query.page, query.per_page))


def _worded(notice: dict[str, Any]) -> dict[str, Any]:
    """A trend notice's code and figures (as an object), and its text in the caller's language."""
    if not notice.get("code"):
        return notice
    return {**notice, "params": trend_words.notice_params(notice), "text": manage_words.notice_text(notice)}


@operation("POST", "/notifications/<notification_id>/read", summary="Mark a notification read",
           tag="notifications", responses={200: m.Marked, **MISSING})
def mark_read(notification_id: str) -> ResponseReturnValue:
    return jsonify(read=notices.mark_read(services.context(), actor(), notification_id))


# -- organisation (read) ---------------------------------------------------------------------------------


@operation("GET", "/org/departments", summary="Every department (id, code, names, parent)", tag="org",
           responses={200: m.Departments})
def departments() -> ResponseReturnValue:
    return jsonify(items=browse.department_names(services.context()))


@operation("GET", "/org/people", summary="People of the organisation, paged", tag="org", query=m.Paging,
           responses={200: m.PeoplePage, 400: m.Problem})
def people(query: m.Paging) -> ResponseReturnValue:
    rows = [{"id": r["id"], "username": r.get("username"), "name": r.get("name"),
             "departments": r.get("departments"), "active": r.get("active")}
            for r in accounts.list_people(services.store())]
    return jsonify(**_paged(rows, query.page, query.per_page), total=len(rows))
