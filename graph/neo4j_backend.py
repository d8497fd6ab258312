"""Graph store on Neo4j 5 through the official driver (bolt:// or neo4j:// with routing)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import neo4j
from neo4j import GraphDatabase, RoutingControl
from neo4j.exceptions import Neo4jError, ServiceUnavailable, SessionExpired
from neo4j.graph import Node, Path, Relationship

from graph import schema
from graph.cypher import Statement
from graph.errors import GraphError, GraphUnavailable
from graph.store import GraphStore, Row, T, Transaction


def _plain(value: Any) -> Any:
    """Driver values to plain Python: nodes and relationships become their property dicts."""
    if isinstance(value, Node):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Relationship):
        return {**{k: _plain(v) for k, v in value.items()}, "_type": value.type}
    if isinstance(value, Path):
        return [_plain(n) for n in value.nodes]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def schema_statements() -> list[str]:
    """Neo4j DDL for :mod:`graph.schema` (idempotent with IF NOT EXISTS)."""
    ddl = []
    for label, key in schema.UNIQUE_KEYS.items():
        ddl.append(
            f"CREATE CONSTRAINT {label.lower()}_{key}_unique IF NOT EXISTS FOR (n:{label}) REQUIRE n.{key} IS UNIQUE"
        )
    for label, properties in schema.LOOKUP_INDEXES.items():
        for prop in properties:
            ddl.append(f"CREATE INDEX {label.lower()}_{prop} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})")
    return ddl


def _rows(result: neo4j.Result) -> list[Row]:
    # A Record iterates its values, not its keys.
    return [{key: _plain(record[key]) for key in record.keys()} for record in result]  # noqa: SIM118


class Neo4jStore(GraphStore):
    engine = "neo4j"

    def __init__(self, uri: str, user: str, password: str, database: str, *, retry_seconds: float = 15.0) -> None:
        self.database = database
        # Bounded retries: a down server must surface as GraphUnavailable, not hang a web request.
        self._driver = GraphDatabase.driver(
            uri, auth=(user, password), connection_acquisition_timeout=10, connection_timeout=5,
            max_transaction_retry_time=retry_seconds,
        )

    def run(self, statement: Statement, params: Mapping[str, Any] | None = None) -> list[Row]:
        if not isinstance(statement, Statement):
            raise TypeError("only catalogue statements (graph.cypher.cypher) may be run")
        routing = RoutingControl.WRITE if statement.writes else RoutingControl.READ
        try:
            records, _, keys = self._driver.execute_query(
                statement.text, dict(params or {}), database_=self.database, routing_=routing
            )
        except (ServiceUnavailable, SessionExpired) as error:
            raise GraphUnavailable(f"Neo4j unavailable: {error}") from error
        except Neo4jError as error:
            raise GraphError(str(error)) from error
        return [{key: _plain(record[key]) for key in keys} for record in records]

    def read(self, work: Callable[[Transaction], T]) -> T:
        return self._transaction(work, neo4j.READ_ACCESS)

    def write(self, work: Callable[[Transaction], T]) -> T:
        return self._transaction(work, neo4j.WRITE_ACCESS)

    def _transaction(self, work: Callable[[Transaction], T], mode: str) -> T:
        try:
            with self._driver.session(database=self.database, default_access_mode=mode) as session:
                runner = session.execute_read if mode == neo4j.READ_ACCESS else session.execute_write
                return runner(lambda tx: work(_Neo4jTransaction(tx)))
        except (ServiceUnavailable, SessionExpired) as error:
            raise GraphUnavailable(f"Neo4j unavailable: {error}") from error
        except Neo4jError as error:
            raise GraphError(str(error)) from error

    def ensure_schema(self) -> None:
        try:
            with self._driver.session(database=self.database) as session:
                for ddl in schema_statements():
                    session.run(ddl).consume()
                session.run("CALL db.awaitIndexes(60)").consume()
        except (ServiceUnavailable, SessionExpired) as error:
            raise GraphUnavailable(f"Neo4j unavailable: {error}") from error

    def ping(self) -> None:
        try:
            self._driver.verify_connectivity()
        except Exception as error:  # the driver raises several unrelated types here
            raise GraphUnavailable(f"Neo4j unavailable: {error}") from error

    def close(self) -> None:
        self._driver.close()


class _Neo4jTransaction:
    def __init__(self, tx: neo4j.ManagedTransaction) -> None:
        self._tx = tx

    def run(self, statement: Statement, params: Mapping[str, Any] | None = None) -> list[Row]:
        if not isinstance(statement, Statement):
            raise TypeError("only catalogue statements (graph.cypher.cypher) may be run")
        return _rows(self._tx.run(statement.text, dict(params or {})))
