"""What the header of every page shows about the signed-in person, in one statement: the inbox badge numbers
and the person's saved views (the navigation's menu). Each was a round trip of its own on every page."""

from graph.cypher import cypher
from graph.queries.workflow_inbox import COUNTS_BODY, COUNTS_EXAMPLE

PAGE_HEADER = cypher(
    "page_header.of_person",
    COUNTS_BODY + """
    OPTIONAL MATCH (v:SavedView {owner_id: $person_id})
    WITH mine, overdue, due_soon, queues, started, copied, unread, v
    ORDER BY toLower(v.name), v.created_at
    RETURN mine, overdue, due_soon, queues, started, copied, unread,
           collect(CASE WHEN v IS NULL THEN null
                        ELSE {id: v.id, name: v.name, query: v.query, created_at: v.created_at} END) AS views
    """,
    example=COUNTS_EXAMPLE,
)
