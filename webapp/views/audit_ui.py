"""How the audit trail reads to a person: actor names, translated actions and object kinds, object titles
(only for objects the viewer may read), details as label: value pairs."""

from __future__ import annotations

import json
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l

from graph import audit_titles

ACTIONS = {
    "login.success": _l("Signed in"), "login.failure": _l("Sign-in failed"), "login.throttle": _l("Sign-in throttled"),
    "logout": _l("Signed out"), "password.change": _l("Changed the password"),
    "password.change_refused": _l("Password change refused"), "password.reset": _l("Reset a password"),
    "password.throttle": _l("Password attempts throttled"), "access.refused": _l("Access refused"),
    "audit.export": _l("Exported the audit trail"), "manage.export": _l("Exported a management report"),
    "document.upload": _l("Uploaded a document"), "document.version": _l("Added a version"),
    "document.extracted": _l("Text extracted"), "document.share": _l("Shared a document"),
    "document.unshare": _l("Removed a share"), "document.download": _l("Downloaded a document"),
    "document.view": _l("Opened a document"), "document.read": _l("Read a document"),
    "document.classify": _l("Classified a document"), "document.comment": _l("Commented on a document"),
    "document.update": _l("Changed a document"), "document.thumbnail": _l("Thumbnail made"),
    "document.decision": _l("Linked a decision"), "decision.record": _l("Recorded a decision"),
    "workflow.publish": _l("Published a workflow"), "workflow.start": _l("Started a workflow run"),
    "workflow.task": _l("Acted on a task"), "workflow.comment": _l("Commented on a run"),
    "workflow.withdraw": _l("Withdrew a run"), "workflow.request": _l("Sent a cross-department request"),
    "run.started": _l("Run started"), "run.finished": _l("Run finished"), "task.created": _l("Task created"),
    "task.overdue": _l("Task overdue"), "ingest.start": _l("Started a bulk ingestion"),
    "ingest.finish": _l("Bulk ingestion finished"), "ingest.resume": _l("Resumed a bulk ingestion"),
    "ingest.upload": _l("Uploaded files for ingestion"), "webhook.add": _l("Added a webhook"),
    "webhook.remove": _l("Removed a webhook"), "org.export": _l("Exported the organisation"),
    "org.import.apply": _l("Imported the organisation"), "org.import.dry_run": _l("Checked an organisation import"),
    "org.department.move": _l("Moved a department"), "org.membership.add": _l("Added a member"),
    "org.membership.remove": _l("Removed a member"), "org.person.create": _l("Created a person"),
    "org.person.roles": _l("Changed roles"), "org.person.update": _l("Changed a person"),
}
KINDS = {"person": _l("Person"), "department": _l("Department"), "position": _l("Position"),
         "project": _l("Project"), "document": _l("Document"), "version": _l("Version"), "domain": _l("Domain"),
         "task": _l("Task"), "comment": _l("Comment"), "workflow": _l("Workflow"), "step": _l("Step"),
         "workflow_run": _l("Workflow run"), "decision": _l("Decision")}
DETAIL_LABELS = {"access": _l("Access"), "reason": _l("Reason"), "status": _l("Status"), "chars": _l("Characters"),
                 "ref": _l("Code"), "with": _l("Shared with"), "version_id": _l("Version"), "target_id": _l("Target"),
                 "kind": _l("Kind"), "client": _l("Client"), "username": _l("User name"), "roles": _l("Roles"),
                 "method": _l("Sign-in method"), "read": _l("Read"), "edit": _l("Edit"), "ok": _l("Done")}


def action_name(action: str) -> str:
    """The translated action; an action this table does not know shows as its code."""
    return str(ACTIONS.get(action, action))


def kind_name(kind: str | None) -> str:
    return str(KINDS.get(kind or "", kind or ""))


def detail_pairs(detail: Any) -> list[tuple[str, str]]:
    """The event's detail (a JSON object) as translated label/value pairs; values stay as recorded."""
    if detail in (None, "", "{}"):
        return []
    try:
        data = json.loads(detail) if isinstance(detail, str) else detail
    except ValueError:
        return [("", str(detail))]
    if not isinstance(data, dict):
        return [("", str(data))]
    pairs = []
    for key, value in data.items():
        if value is None:
            continue
        shown = DETAIL_LABELS.get(str(value), KINDS.get(str(value), value)) if isinstance(value, str) else value
        pairs.append((str(DETAIL_LABELS.get(key, key)), str(shown)))
    return pairs


def targets_and_names(store: Any, actor: Any, rows: list[dict[str, Any]],
                      lang: str) -> tuple[dict[tuple[str, str], Any], dict[str, str]]:
    """The page's targets with their titles, and its actors' names (person id -> name). Batched: one look-up
    per kind on the page, the actors riding along with the people the events are about, so the page never
    reads the whole directory."""
    pairs = [(r.get("target_kind"), r.get("target_id")) for r in rows]
    pairs += [("person", r.get("actor_id")) for r in rows]
    found = audit_titles.titles(store, actor, pairs, lang=lang)
    names = {key[1]: target.title for key, target in found.items() if key[0] == "person" and target.title}
    return found, names


def target_url(target: audit_titles.Target) -> str | None:
    """Where the object is read, for a visible one; None for hidden, deleted or page-less objects."""
    if target.title is None:
        return None
    if target.kind == "person":
        return url_for("admin_org.person", person_id=target.id)
    if target.kind in ("department", "position", "project"):
        return url_for("admin_org.edit", kinds=f"{target.kind}s", entity_id=target.id)
    if target.document_id:
        return url_for("documents.page", document_id=target.document_id)
    if target.kind == "task":
        return url_for("workflows.task_page", task_id=target.id)
    if target.kind == "decision":
        return url_for("decisions.show", decision_id=target.id)
    if target.run_id:
        return url_for("workflows.run_page", run_id=target.run_id)
    return None
