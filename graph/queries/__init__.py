"""Cypher per domain; each module declares its statements with :func:`graph.cypher.cypher`."""
