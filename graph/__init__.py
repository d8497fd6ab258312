"""The knowledge graph: one store interface, two engines (embedded FalkorDB, Neo4j 5)."""

from __future__ import annotations

from graph.embedded_server import EmbeddedServer
from graph.errors import GraphError, GraphUnavailable
from graph.store import GraphStore
from settings import Settings


def embedded_server(settings: Settings) -> EmbeddedServer:
    return EmbeddedServer(settings.graph_dir)


def open_store(settings: Settings, *, start_embedded: bool = True) -> GraphStore:
    """Connect to the configured engine; in embedded mode attach to (or start) the bundled server."""
    if settings.graph == "neo4j":
        from graph.neo4j_backend import Neo4jStore

        return Neo4jStore(
            settings.neo4j_uri,
            settings.neo4j_user,
            settings.neo4j_password.get_secret_value(),
            settings.neo4j_database,
        )
    from graph.falkordb_backend import FalkorStore

    server = embedded_server(settings)
    if start_embedded:
        server.ensure_running()
    return FalkorStore(server, settings.graph_name)


__all__ = ["EmbeddedServer", "GraphError", "GraphStore", "GraphUnavailable", "embedded_server", "open_store"]
