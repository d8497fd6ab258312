"""Decisions (决策) as knowledge: what was decided, by whom, on which document versions, in which run.

Model: ``(:Decision {kind: 'record', id, title, text, decided_on, at, source})``
``-[:BY]->(:Person)`` (who decided), ``-[:PARTICIPANT]->(:Person)``, ``-[:RECORDED_BY]->(:Person)``,
``-[:BASED_ON]->(:Version)``, ``-[:IN_RUN]->(:WorkflowRun)``, ``-[:AFFECTS]->(:Department|:Project)``.
The workflow engine's own per-task outcomes are ``Decision`` nodes too (other kinds, ``-[:ON]->(:Task)``);
every statement here keeps to ``kind = 'record'``.
"""

from graph.cypher import cypher

RECORD_KIND = "record"

_PROPS = {"id": "x1", "kind": RECORD_KIND, "title": "采购合同签订", "text": "", "decided_on": "2026-12-01", "at": 0,
          "source": "meeting", "comment": "采购合同签订"}

RECORD = cypher(
    "decisions.record",
    """
    MATCH (by:Person {id: $by_id})
    CREATE (x:Decision) SET x += $props
    CREATE (x)-[:BY]->(by)
    WITH x
    OPTIONAL MATCH (rec:Person {id: $recorder_id})
    FOREACH (r IN CASE WHEN rec IS NULL THEN [] ELSE [rec] END | CREATE (x)-[:RECORDED_BY]->(r))
    WITH x
    OPTIONAL MATCH (run:WorkflowRun {id: $run_id})
    FOREACH (r IN CASE WHEN run IS NULL THEN [] ELSE [run] END | CREATE (x)-[:IN_RUN]->(r))
    WITH x
    OPTIONAL MATCH (v:Version) WHERE v.id IN $version_ids
    WITH x, collect(v) AS versions
    FOREACH (v IN versions | CREATE (x)-[:BASED_ON]->(v))
    WITH x
    OPTIONAL MATCH (p:Person) WHERE p.id IN $participant_ids
    WITH x, collect(p) AS people
    FOREACH (p IN people | CREATE (x)-[:PARTICIPANT]->(p))
    WITH x
    OPTIONAL MATCH (a:Department) WHERE a.id IN $department_ids
    WITH x, collect(a) AS departments
    FOREACH (a IN departments | CREATE (x)-[:AFFECTS]->(a))
    WITH x
    OPTIONAL MATCH (j:Project) WHERE j.id IN $project_ids
    WITH x, collect(j) AS projects
    FOREACH (j IN projects | CREATE (x)-[:AFFECTS]->(j))
    RETURN x.id AS id
    """,
    example={"by_id": "u1", "recorder_id": "u1", "run_id": None, "props": _PROPS, "version_ids": ["v1"],
             "participant_ids": ["u2"], "department_ids": ["dep1"], "project_ids": []},
    writes=True,
)

# Everything a decision rests on and involves, for the visibility rule and the lineage view.
FACTS = cypher(
    "decisions.facts",
    """
    UNWIND $ids AS xid
    MATCH (x:Decision {id: xid}) WHERE x.kind = 'record'
    OPTIONAL MATCH (x)-[:BY]->(by:Person)
    OPTIONAL MATCH (x)-[:IN_RUN]->(run:WorkflowRun)
    RETURN x AS decision, by.id AS by_id, by.name AS by_name, run.id AS run_id, run.title AS run_title,
           [(x)-[:RECORDED_BY]->(r:Person) | r.id] AS recorded_by,
           [(x)-[:PARTICIPANT]->(p:Person) | [p.id, p.name]] AS participants,
           [(x)-[:AFFECTS]->(a) | [labels(a)[0], a.id, a.code, a.name]] AS affects,
           [(x)-[:BASED_ON]->(v:Version)<-[:HAS_VERSION]-(d:Document) | [v.id, d.id]] AS bases
    ORDER BY x.at DESC
    """,
    example={"ids": ["x1"]},
)

# Versions with their document and its current version (recording checks them; the lineage view shows them).
VERSIONS = cypher(
    "decisions.versions",
    """
    UNWIND $ids AS vid
    MATCH (d:Document)-[:HAS_VERSION]->(v:Version {id: vid})
    OPTIONAL MATCH (d)-[:CURRENT]->(c:Version)
    RETURN v.id AS version_id, v.number AS number, d.id AS document_id, d.title AS title,
           c.id AS current_version_id, c.number AS current_number
    """,
    example={"ids": ["v1"]},
)

OF_DOCUMENT = cypher(
    "decisions.of_document",
    """
    MATCH (d:Document {id: $id})-[:HAS_VERSION]->(:Version)<-[:BASED_ON]-(x:Decision)
    WHERE x.kind = 'record'
    RETURN DISTINCT x.id AS id
    """,
    example={"id": "doc1"},
)

# Newest first; the caller keeps those the viewer may see (a bounded scan: ``$scan``).
LATEST = cypher(
    "decisions.latest",
    """
    MATCH (x:Decision) WHERE x.kind = 'record'
    RETURN x.id AS id ORDER BY x.at DESC LIMIT $scan
    """,
    example={"scan": 100},
)

SEARCH = cypher(
    "decisions.search",
    """
    MATCH (x:Decision) WHERE x.kind = 'record'
    WITH x WHERE toLower(x.title) CONTAINS $text OR toLower(coalesce(x.text, '')) CONTAINS $text
    RETURN x.id AS id ORDER BY x.at DESC LIMIT $scan
    """,
    example={"text": "合同", "scan": 100},
)

# Everyone who took part in a run: initiator, copied people, assignees, members of assigned queues, deciders.
RUN_PEOPLE = cypher(
    "decisions.run_people",
    """
    MATCH (r:WorkflowRun {id: $run_id})
    RETURN [(r)-[:INITIATED_BY]->(i:Person) | i.id] + [(r)-[:CC]->(c:Person) | c.id]
         + [(p:Person)<-[:ASSIGNED_TO]-(:Task)-[:OF_RUN]->(r) | p.id]
         + [(m:Person)-[:MEMBER_OF|HOLDS]->()<-[:ASSIGNED_TO]-(:Task)-[:OF_RUN]->(r) | m.id]
         + [(b:Person)<-[:BY]-(:Decision)-[:IN_RUN]->(r) | b.id] AS people
    """,
    example={"run_id": "r1"},
)

# What a finished run rests on: its form and approval attachments (JSON with document ids) and any document
# or version linked to the run or its tasks; who approved, in order.
RUN_BASIS = cypher(
    "decisions.run_basis",
    """
    MATCH (r:WorkflowRun {id: $run_id})
    OPTIONAL MATCH (x:Decision)-[:IN_RUN]->(r) WHERE x.kind <> 'record'
    OPTIONAL MATCH (x)-[:BY]->(b:Person)
    WITH r, collect(CASE WHEN x IS NULL THEN NULL ELSE [x.kind, x.at, x.attachments, b.id] END) AS steps
    RETURN r.title AS title, r.form AS form, r.attachments AS attachments, steps,
           [(r)-[:INITIATED_BY]->(i:Person) | i.id] AS initiators,
           [(r)--(v:Version) | v.id] + [(v:Version)--(:Task)-[:OF_RUN]->(r) | v.id] AS versions,
           [(r)--(d:Document) | d.id] + [(d:Document)--(:Task)-[:OF_RUN]->(r) | d.id] AS documents,
           [(x:Decision)-[:IN_RUN]->(r) WHERE x.kind = 'record' | x.id] AS recorded
    """,
    example={"run_id": "r1"},
)

PEOPLE = cypher(
    "decisions.people",
    """
    MATCH (p:Person) WHERE p.username IN $keys OR p.id IN $keys
    RETURN p.id AS id, p.username AS username, p.name AS name, p.active = true AS active
    """,
    example={"keys": ["li.na"]},
)

TARGETS = cypher(
    "decisions.targets",
    """
    MATCH (t) WHERE (t:Department OR t:Project) AND (t.code IN $keys OR t.id IN $keys)
    RETURN labels(t)[0] AS label, t.id AS id, t.code AS code, t.name AS name
    """,
    example={"keys": ["FIN"]},
)
