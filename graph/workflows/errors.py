"""Errors of the workflow engine beyond definition and form validation."""

from graph.workflows.definitions import WorkflowError


class NotAllowed(WorkflowError):
    """The person may not do this (not their task, not their queue, not the initiator...)."""


class NotFound(WorkflowError):
    """No such workflow, run, task or person."""


class Conflict(WorkflowError):
    """The action does not fit the current state (task already done, run moved on meanwhile...)."""


class RoutingError(WorkflowError):
    """A step's responsible rule finds nobody (unknown code, empty queue, no budget owner...)."""
