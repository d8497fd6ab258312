"""What an audit event is about, in words: one statement per target kind, each taking every id of a page at
once (``$ids``), so a page of events costs at most one look-up per kind, never one per row.

Every statement returns the same columns: ``id``, ``title`` / ``title_en`` (what people call the object),
``document_id`` (the document whose readers alone may see the title; null when the object is not a
document's) and ``run_id`` (the workflow run it belongs to; null when none). An id that returns no row
belongs to an object that no longer exists.
"""

from graph.cypher import Statement, cypher

_EXAMPLE = {"ids": ["x1", "x2"]}


def _titles(kind: str, text: str) -> Statement:
    return cypher(f"audit_titles.{kind}", text, example=_EXAMPLE)


def _named(kind: str, label: str) -> Statement:
    """Objects people call by their (Chinese and English) name: the directory and workflow definitions."""
    return _titles(kind, f"""
        MATCH (n:{label}) WHERE n.id IN $ids
        RETURN n.id AS id, n.name AS title, n.name_en AS title_en, null AS document_id, null AS run_id
    """)


TITLES: dict[str, Statement] = {
    "person": _titles("person", """
        MATCH (n:Person) WHERE n.id IN $ids
        RETURN n.id AS id, coalesce(n.name, n.username) AS title, null AS title_en, null AS document_id,
               null AS run_id
    """),
    **{kind: _named(kind, label) for kind, label in (("department", "Department"), ("position", "Position"),
                                                     ("project", "Project"), ("workflow", "Workflow"),
                                                     ("step", "Step"))},
    "domain": _titles("domain", """
        MATCH (n:Domain) WHERE n.id IN $ids
        RETURN n.id AS id, coalesce(n.name, n.code) AS title, n.name_en AS title_en, null AS document_id,
               null AS run_id
    """),
    "document": _titles("document", """
        MATCH (n:Document) WHERE n.id IN $ids
        RETURN n.id AS id, n.title AS title, null AS title_en, n.id AS document_id, null AS run_id
    """),
    "version": _titles("version", """
        MATCH (d:Document)-[:HAS_VERSION]->(n:Version) WHERE n.id IN $ids
        RETURN n.id AS id, d.title + ' · v' + toString(n.number) AS title, null AS title_en,
               d.id AS document_id, null AS run_id
    """),
    "comment": _titles("comment", """
        MATCH (n:Comment) WHERE n.id IN $ids
        OPTIONAL MATCH (n)-[:ON]->(d:Document)
        OPTIONAL MATCH (n)-[:IN_RUN]->(r:WorkflowRun)
        RETURN n.id AS id, coalesce(d.title, r.title) AS title, null AS title_en, d.id AS document_id,
               r.id AS run_id
    """),
    "workflow_run": _titles("workflow_run", """
        MATCH (n:WorkflowRun) WHERE n.id IN $ids
        RETURN n.id AS id, n.title AS title, null AS title_en, null AS document_id, n.id AS run_id
    """),
    "task": _titles("task", """
        MATCH (n:Task) WHERE n.id IN $ids
        RETURN n.id AS id, coalesce(n.title, '') + ' · ' + coalesce(n.step_name, '') AS title,
               coalesce(n.title, '') + ' · ' + coalesce(n.step_name_en, n.step_name, '') AS title_en,
               null AS document_id, n.run_id AS run_id
    """),
    "decision": _titles("decision", """
        MATCH (n:Decision) WHERE n.id IN $ids
        RETURN n.id AS id, n.title AS title, null AS title_en, null AS document_id, null AS run_id
    """),
}
