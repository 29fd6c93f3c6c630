"""Start this host's worker or the fleet's periodic scheduler.

python -m worker run     # the worker of this host: queue host.<name> (+ wharf.fleet)
python -m worker beat    # the periodic scheduler (one per fleet)
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m worker")
    parser.add_argument("command", choices=["run", "beat"])
    parser.add_argument(
        "--concurrency", type=int, default=int(os.environ.get("WHARF_WORKER_CONCURRENCY", "2"))
    )
    parser.add_argument("--loglevel", default=os.environ.get("WHARF_WORKER_LOGLEVEL", "INFO"))
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    import django

    django.setup()
    from django.conf import settings

    from worker.celery import FLEET_QUEUE, app

    if args.command == "beat":
        schedule = os.environ.get("WHARF_BEAT_SCHEDULE") or os.path.join(
            settings.BASE_DIR, "var", "celerybeat-schedule"
        )
        os.makedirs(os.path.dirname(schedule), exist_ok=True)
        app.Beat(loglevel=args.loglevel, schedule=schedule).run()
        return 0

    from celery.signals import worker_ready, worker_shutdown

    from worker.heartbeat import Heartbeat, beat_once, host_name

    name = host_name()
    beat_once(name)  # registered before the first job can arrive
    heartbeat = Heartbeat(name, settings.WHARF_HEARTBEAT_SECONDS)
    worker_ready.connect(lambda **_: heartbeat.start(), weak=False)
    worker_shutdown.connect(lambda **_: heartbeat.stop(), weak=False)
    from webapp.fleet.models import queue_for

    worker = app.Worker(
        queues=[queue_for(name), FLEET_QUEUE],
        hostname=f"wharf@{name}",
        concurrency=args.concurrency,
        loglevel=args.loglevel,
        without_gossip=True,
        without_mingle=True,
    )
    worker.start()
    return worker.exitcode or 0


if __name__ == "__main__":
    sys.exit(main())
