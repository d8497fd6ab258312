"""Process analytics for managers: event-log import, bottlenecks, trends, collaboration, demo history.

Every function takes the store and, where time matters, ``now`` (epoch ms) as arguments.
Figures are computed in numpy from one flat Cypher read per workflow and cached against a
change counter (:mod:`graph.analytics.cache`).
"""
