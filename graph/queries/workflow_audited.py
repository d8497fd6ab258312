"""Workflow writes that record their own audit event (:func:`graph.queries.audit.audited`): a task action's
decision (approve, reject, return, claim, delegate, reassign, request/provide info, resubmit, feedback), the
note of 加签 and 催办, and a run comment. The change and its ``workflow.*`` event are stored together or not at
all; a statement that changes nothing (no row) records nothing."""

from graph.queries.audit import audited
from graph.queries.workflows import ADD_COMMENT, ASSIGN, DECIDE, NOTE_ON_RUN

DECIDE_AUDITED = audited(DECIDE, before="RETURN d.id AS id", carry="d", kind="task")
ASSIGN_AUDITED = audited(ASSIGN, before="RETURN d.id AS id", carry="d", kind="task")
NOTE_ON_RUN_AUDITED = audited(NOTE_ON_RUN, before="RETURN d.id AS id", carry="d", kind="task")
ADD_COMMENT_AUDITED = audited(ADD_COMMENT, before="RETURN c.id AS id", carry="c", kind="run")
