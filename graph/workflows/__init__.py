"""The workflow engine's domain layer: definitions, runs, actions, inbox, reminders, templates.

Every function takes the store and the current time (``now``, epoch ms) as arguments: nothing
here reads the clock, so tests drive time explicitly and never sleep.
"""

from graph.workflows.definitions import DefinitionError, FormError, WorkflowError
from graph.workflows.errors import Conflict, NotAllowed, NotFound, RoutingError

__all__ = ["Conflict", "DefinitionError", "FormError", "NotAllowed", "NotFound", "RoutingError", "WorkflowError"]
