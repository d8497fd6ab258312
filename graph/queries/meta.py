"""Small key/value facts about the graph itself (what was loaded, schema version...)."""

from graph.cypher import cypher

GET_META = cypher(
    "meta.get",
    "MATCH (m:Meta {key: $key}) RETURN m.value AS value",
    example={"key": "demo"},
)

SET_META = cypher(
    "meta.set",
    "MERGE (m:Meta {key: $key}) SET m.value = $value RETURN m.value AS value",
    example={"key": "demo", "value": "1"},
    writes=True,
)
