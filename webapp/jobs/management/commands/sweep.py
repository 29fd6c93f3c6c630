"""``manage.py sweep [--forever] [--interval S]``: the fleet's periodic bookkeeping, on the site.

Runs where the database is (hosts have none): unreachable hosts, expired and
unsent jobs, jobs past their hard limit (``webapp.jobs.services.sweep``), and
hourly, the query planner's statistics of SQLite (``webapp.dbstats``). A
host's silence counts only while the site could have heard it: not in the
first WHARF_UNREACHABLE_AFTER seconds after this starts or after the
database was away (its beats were refused then, and are retried). A judgement
that waited for the database longer than a beat's interval is void and counts
as the database away (``Host.mark_unreachable``): it was made while the beats
that would have cleared the host waited in the same line.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from webapp import dbstats
from webapp.jobs.services import sweep


class Command(BaseCommand):
    help = "One round of the fleet's bookkeeping, or rounds forever."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--forever", action="store_true")
        parser.add_argument(
            "--interval", type=float, default=float(settings.WHARF_UNREACHABLE_CHECK_SECONDS)
        )

    def handle(self, *args: object, **opts: object) -> None:
        interval = float(opts["interval"])
        # Since when the site has had its database: a host is judged by its silence only
        # once it has had WHARF_UNREACHABLE_AFTER seconds to beat to a site that could
        # record it (after this sweeper starts, and after the database was away: a round
        # that failed, or that waited far longer than a round takes, on a locked one).
        calm_since = time.monotonic()
        analyzed = None
        while True:
            began = time.monotonic()
            if analyzed is None or began - analyzed >= dbstats.EVERY:
                try:
                    dbstats.refresh()
                except Exception as exc:  # noqa: BLE001 - the database away; next round
                    self.stderr.write(f"planner statistics not refreshed: {exc}")
                else:
                    analyzed = began
            try:
                done = sweep(judge_hosts=began - calm_since >= settings.WHARF_UNREACHABLE_AFTER)
            except Exception as exc:  # noqa: BLE001 - the database away for a moment
                self.stderr.write(f"sweep failed, trying again: {exc}")
                close_old_connections()
                calm_since = time.monotonic()
            else:
                if time.monotonic() - began > max(interval, 5.0):
                    calm_since = time.monotonic()
                for what, ids in done.items():
                    if ids:
                        self.stdout.write(f"{what}: jobs {', '.join(map(str, ids))}")
            if not opts["forever"]:
                return
            self.stdout.flush()
            time.sleep(interval)
