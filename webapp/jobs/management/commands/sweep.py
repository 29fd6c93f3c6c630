"""``manage.py sweep [--forever] [--interval S]``: the fleet's periodic bookkeeping, on the site.

Runs where the database is (hosts have none): unreachable hosts, expired and
unsent jobs, jobs past their hard limit (``webapp.jobs.services.sweep``).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from webapp.jobs.services import sweep


class Command(BaseCommand):
    help = "One round of the fleet's bookkeeping, or rounds forever."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--forever", action="store_true")
        parser.add_argument(
            "--interval", type=float, default=float(settings.WHARF_UNREACHABLE_CHECK_SECONDS)
        )

    def handle(self, *args: object, **opts: object) -> None:
        while True:
            try:
                done = sweep()
            except Exception as exc:  # noqa: BLE001 - the database away for a moment
                self.stderr.write(f"sweep failed, trying again: {exc}")
                close_old_connections()
            else:
                for what, ids in done.items():
                    if ids:
                        self.stdout.write(f"{what}: jobs {', '.join(map(str, ids))}")
            if not opts["forever"]:
                return
            self.stdout.flush()
            time.sleep(float(opts["interval"]))
