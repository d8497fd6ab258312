"""Errors raised by the graph layer, independent of the engine underneath."""


class GraphError(RuntimeError):
    """A statement failed on the engine (bad query, constraint violation...)."""


class GraphUnavailable(GraphError):
    """The graph engine cannot be reached (down, starting, still loading its data)."""
