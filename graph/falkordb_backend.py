"""Graph store on embedded FalkorDB, spoken to with the ``falkordb`` client over a unix socket."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import redis
from falkordb import Edge, Graph, Node, Path
from redis.backoff import NoBackoff
from redis.retry import Retry

from graph import schema
from graph.cypher import Statement
from graph.embedded_server import EmbeddedServer
from graph.errors import GraphError, GraphUnavailable
from graph.store import GraphStore, Row, T, Transaction

RETRY_SECONDS = 15.0


def _plain(value: Any) -> Any:
    """Engine values to plain Python: nodes and relationships become their property dicts."""
    if isinstance(value, Node):
        return {k: _plain(v) for k, v in value.properties.items()}
    if isinstance(value, Edge):
        return {**{k: _plain(v) for k, v in value.properties.items()}, "_type": value.relation}
    if isinstance(value, Path):
        return [_plain(n) for n in value.nodes()]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _is_safe_to_retry(error: Exception) -> bool:
    """True when the statement certainly did not reach the engine (so a retry cannot apply it twice)."""
    if isinstance(error, redis.BusyLoadingError):
        return True
    text = str(error)
    return isinstance(error, redis.ConnectionError) and ("connecting" in text or "No such file" in text)


class FalkorStore(GraphStore):
    engine = "falkordb"

    def __init__(self, server: EmbeddedServer, graph_name: str, *, retry_seconds: float = RETRY_SECONDS) -> None:
        self.server = server
        self.graph_name = graph_name
        self.retry_seconds = retry_seconds
        # A plain redis client connects lazily, so a store can exist while the server is down.
        # No client-side retries: _execute retries itself, and only where a retry is safe.
        self._client = redis.Redis(
            unix_socket_path=str(server.socket), socket_timeout=300, socket_connect_timeout=5,
            retry=Retry(NoBackoff(), 0),
        )
        self._graph = Graph(self._client, graph_name)

    # -- statements ---------------------------------------------------------------------

    def run(self, statement: Statement, params: Mapping[str, Any] | None = None) -> list[Row]:
        if not isinstance(statement, Statement):
            raise TypeError("only catalogue statements (graph.cypher.cypher) may be run")
        return self._execute(statement.text, dict(params or {}), read_only=not statement.writes)

    def read(self, work: Callable[[Transaction], T]) -> T:
        return work(_FalkorTransaction(self, read_only=True))

    def write(self, work: Callable[[Transaction], T]) -> T:
        # FalkorDB runs each statement atomically under its graph lock; a unit of work is
        # the statements in order. Units that must be atomic are written as one statement.
        return work(_FalkorTransaction(self, read_only=False))

    def _execute(self, text: str, params: dict[str, Any], *, read_only: bool) -> list[Row]:
        deadline = time.monotonic() + self.retry_seconds
        while True:
            try:
                result = self._graph.ro_query(text, params) if read_only else self._graph.query(text, params)
                break
            except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as error:
                if (read_only or _is_safe_to_retry(error)) and time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                raise GraphUnavailable(f"graph server unavailable: {error}") from error
            except redis.ResponseError as error:
                if read_only and "empty key" in str(error):
                    return []  # the graph has no data yet: reads find nothing
                raise GraphError(str(error)) from error
        columns = [column[1] if isinstance(column, (list, tuple)) else column for column in result.header]
        columns = [c.decode() if isinstance(c, bytes) else c for c in columns]
        return [dict(zip(columns, (_plain(v) for v in row), strict=True)) for row in result.result_set]

    # -- administration -----------------------------------------------------------------

    def ensure_schema(self) -> None:
        for label, key in schema.UNIQUE_KEYS.items():
            self._create_index(label, key)
            self._create_unique_constraint(label, key)
        for label, properties in schema.LOOKUP_INDEXES.items():
            for prop in properties:
                self._create_index(label, prop)
        self._wait_for_indexes()

    def _create_index(self, label: str, prop: str) -> None:
        # Labels and properties come from graph.schema, never from users.
        try:
            self._graph.query(f"CREATE INDEX FOR (n:{label}) ON (n.{prop})")
        except redis.ResponseError as error:
            if "already indexed" not in str(error):
                raise GraphError(str(error)) from error

    def _create_unique_constraint(self, label: str, prop: str) -> None:
        try:
            self._client.execute_command(
                "GRAPH.CONSTRAINT", "CREATE", self.graph_name, "UNIQUE", "NODE", label, "PROPERTIES", 1, prop
            )
        except redis.ResponseError as error:
            if "already exists" not in str(error).lower():
                raise GraphError(str(error)) from error

    def _wait_for_indexes(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self._graph.ro_query("CALL db.indexes() YIELD status RETURN status")
            if all(row[0] == "OPERATIONAL" for row in result.result_set):
                return
            time.sleep(0.05)
        raise GraphError("indexes not operational in time")

    def ping(self) -> None:
        try:
            self._client.ping()
        except redis.BusyLoadingError as error:
            raise GraphUnavailable("graph server is loading its data") from error
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise GraphUnavailable(f"graph server unavailable: {error}") from error

    def drop_all(self) -> None:
        """Delete the whole graph (tests and benchmarks only)."""
        try:
            self._graph.delete()
        except redis.ResponseError as error:
            if "empty key" not in str(error).lower() and "invalid graph" not in str(error).lower():
                raise GraphError(str(error)) from error

    def close(self) -> None:
        self._client.close()


class _FalkorTransaction:
    def __init__(self, store: FalkorStore, *, read_only: bool) -> None:
        self._store = store
        self._read_only = read_only

    def run(self, statement: Statement, params: Mapping[str, Any] | None = None) -> list[Row]:
        if not isinstance(statement, Statement):
            raise TypeError("only catalogue statements (graph.cypher.cypher) may be run")
        if self._read_only and statement.writes:
            raise GraphError(f"write statement {statement.name} in a read transaction")
        return self._store._execute(statement.text, dict(params or {}), read_only=not statement.writes)
