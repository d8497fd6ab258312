"""Errors raised by the graph layer, independent of the engine underneath."""


class GraphError(RuntimeError):
    """A statement failed on the engine (bad query, constraint violation...)."""


class GraphUnavailable(GraphError):
    """The graph engine cannot be reached (down, starting, still loading its data)."""


class DomainError(Exception):
    """A refusal or failure a person must read: a stable ``code`` plus ``params``, worded at the edge.

    Doors (web, CLI, API, Celery) never show ``str(error)`` to a person: they look ``code`` up in their
    message catalogue and format it with ``params`` in the reader's language.
    """

    code = "error"
    status = 400  # the HTTP status a web or API door answers with

    def __init__(self, code: str | None = None, /, **params: object) -> None:
        self.code = code or type(self).code
        self.params = params
        super().__init__(self.code, params)


class ObjectMissing(DomainError):
    """No such object, OR the actor may not see it: the two must be indistinguishable to the actor."""

    code = "not_found"
    status = 404


class NotPermitted(DomainError):
    """The actor sees the object but may not do this to it (e.g. a reader trying to edit)."""

    code = "not_permitted"
    status = 403


class InvalidInput(DomainError):
    """Bad input; ``params`` name the field (``field``) and what is wrong."""

    code = "invalid"
    status = 400


class StateConflict(DomainError):
    """The action does not fit the object's current state (already decided, stale base version...)."""

    code = "conflict"
    status = 409
