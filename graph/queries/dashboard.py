"""Reads behind the managers' dashboard and trend notices: information-sharing events per day, task cards.

Counts come back per (department id, time bucket of ``$day`` ms: the dashboard asks for quarter hours, so
each bucket lies inside one local week or month whatever the organisation's zone) and the dashboard folds
the buckets into its periods itself.
"""

from graph.cypher import cypher

DAY_MS = 86_400_000

# Documents shared by a department's people (who shared it, else the document's owner), per day.
SHARES_PER_DAY = cypher(
    "dashboard.shares_per_day",
    """
    MATCH (d:Document)-[s:SHARED_WITH]->()
    WITH coalesce(s.at, d.created_at) AS at, coalesce(s.by, d.owner_id) AS by
    WITH at, by WHERE at >= $since AND at < $until
    MATCH (p:Person {id: by})-[:MEMBER_OF]->(dep:Department)
    RETURN dep.id AS department, at / $day AS day, count(*) AS events
    """,
    example={"since": 0, "until": 10**15, "day": DAY_MS},
)

# Comments (on documents and on workflow runs) written by a department's people, per day.
COMMENTS_PER_DAY = cypher(
    "dashboard.comments_per_day",
    """
    MATCH (c:Comment)
    WITH c WHERE c.at >= $since AND c.at < $until
    MATCH (p:Person {id: c.author_id})-[:MEMBER_OF]->(dep:Department)
    RETURN dep.id AS department, c.at / $day AS day, count(*) AS events
    """,
    example={"since": 0, "until": 10**15, "day": DAY_MS},
)

# What a notice about a task needs to show (and to link to it).
TASK_CARDS = cypher(
    "dashboard.task_cards",
    """
    UNWIND $ids AS tid
    MATCH (t:Task {id: tid})
    RETURN t.id AS id, t.run_id AS run_id, t.title AS title, t.step_name AS step_name, t.due_at AS due_at,
           t.status AS status, t.department AS department, t.assignee_name AS assignee_name
    """,
    example={"ids": ["t1"]},
)

# Heads of departments, by department id (names are not unique).
HEADS_OF_DEPARTMENTS = cypher(
    "dashboard.heads_of_departments",
    """
    UNWIND $ids AS id
    MATCH (h:Person)-[:HEADS]->(d:Department {id: id})
    WITH d, h WHERE h.active = true
    RETURN d.id AS department, collect(DISTINCT h.id) AS heads
    """,
    example={"ids": ["dept-fin"]},
)
