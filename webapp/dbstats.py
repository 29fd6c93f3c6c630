"""The query planner's statistics: SQLite's are refreshed by the sweeper, PostgreSQL keeps its own.

SQLite plans without statistics until ``ANALYZE`` has run, and then guesses
badly for the lists: it sorts every container to show 25 of them instead of
walking the hosts' name index and each host's containers by name. PostgreSQL's
autovacuum analyzes tables as they change, so nothing is done there. A full
``ANALYZE`` takes about 0.1 s at fleet scale (100 hosts, 10,000 containers,
50,000 jobs); a sampled one (``analysis_limit``) misjudged the jobs' team
index and had the jobs list sort every job again.
"""

from __future__ import annotations

from django.db import connection

#: seconds between two refreshes by the sweeper
EVERY = 3600


def refresh() -> bool:
    """Bring the planner's statistics up to date; True if anything ran (SQLite)."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return True
