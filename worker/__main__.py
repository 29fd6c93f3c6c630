"""Enrol this host with a site, or run its worker.

python -m worker enroll --site URL --token TOKEN [--name NAME]
python -m worker run

The worker reads only its host config (``WHARF_HOST_CONFIG``, default
/etc/wharf/host.json): no database, no site secret.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys


def host_name() -> str:
    """This host's name in the fleet: WHARF_HOST_NAME, else the machine's hostname."""
    return os.environ.get("WHARF_HOST_NAME") or socket.gethostname()


def enroll(args: argparse.Namespace) -> int:
    from runtime.hostinfo import gather
    from worker.hostconfig import HostConfig, config_path
    from worker.siteclient import SiteClient, SiteRefused

    site = SiteClient(args.site, retry_for=args.wait)
    try:
        answer = site.enroll(args.token, args.name or host_name(), gather())
    except SiteRefused as exc:
        print(f"enrolment refused: {exc.detail}", file=sys.stderr)
        return 1
    cfg = HostConfig.from_dict({"site_url": args.site, **answer})
    path = cfg.save(config_path())
    print(f"enrolled as {cfg.host_name}; host config in {path}")
    return 0


def run(args: argparse.Namespace) -> int:
    from celery.signals import worker_ready, worker_shutdown

    from runtime.images.auth import NO_STORED_LOGINS

    # a team's job never acts as whoever ran `wharf login` on this host: registry
    # credentials come only with the job (a push's, from the site's sealed registries)
    os.environ["WHARF_AUTH_FILE"] = NO_STORED_LOGINS

    # the handlers and the runtime, loaded once before the pool forks: each pool process
    # would otherwise import them at its first job (~0.6 s)
    import worker.jobs  # noqa: F401
    from worker.celery import app, configure, host_config, site_client
    from worker.heartbeat import Heartbeat, beat_once
    from worker.inventory import InventoryFollower
    from worker.streams import StreamListener

    cfg = host_config()
    configure(cfg)
    beat_once(site_client())  # registered (and its lost jobs settled) before a job arrives
    heartbeat = Heartbeat(site_client(), cfg.heartbeat_seconds)
    inventory = InventoryFollower(site_client())
    inventory.prime()
    streams = StreamListener(cfg, site_client())
    worker_ready.connect(
        lambda **_: (heartbeat.start(), inventory.start(), streams.start()), weak=False
    )
    worker_shutdown.connect(
        lambda **_: (heartbeat.stop(), inventory.stop(), streams.stop()), weak=False
    )
    worker = app.Worker(
        queues=[cfg.queue],
        hostname=f"wharf@{cfg.host_name}",
        concurrency=args.concurrency,
        loglevel=args.loglevel,
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
    )
    worker.start()
    return worker.exitcode or 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m worker")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("enroll", help="enrol this host with a site (once)")
    p.add_argument("--site", required=True, help="the site's URL, e.g. https://wharf.example")
    p.add_argument("--token", required=True, help="a one-time enrolment token from an admin")
    p.add_argument("--name", help="this host's name in the fleet (default: its hostname)")
    p.add_argument("--wait", type=float, default=60, help="seconds to wait for the site")
    p.set_defaults(func=enroll)
    p = sub.add_parser("run", help="run this host's worker")
    p.add_argument(
        "--concurrency", type=int, default=int(os.environ.get("WHARF_WORKER_CONCURRENCY", "2"))
    )
    p.add_argument("--loglevel", default=os.environ.get("WHARF_WORKER_LOGLEVEL", "INFO"))
    p.set_defaults(func=run)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
