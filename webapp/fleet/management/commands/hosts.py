"""``manage.py hosts token|revoke|list``: enrolment tokens and host credentials, for admins and scripts."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.errors import SiteError
from webapp.fleet import credentials
from webapp.fleet.models import Host


class Command(BaseCommand):
    help = (
        "Issue an enrolment token (token), revoke a host's credential (revoke), list hosts (list)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        token = sub.add_parser("token", help="print a one-time enrolment token")
        token.add_argument("--name", default="", help="only a host of this name may use it")
        token.add_argument("--minutes", type=int, default=60, help="valid for this long")
        revoke = sub.add_parser("revoke", help="take a host's credential and broker access away")
        revoke.add_argument("name")
        sub.add_parser("list", help="hosts, their state and whether they hold a credential")
        local = sub.add_parser(
            "enroll-local", help="enrol the worker on this machine and write its host config"
        )
        local.add_argument("--name", required=True)
        local.add_argument("--site-url", required=True, help="where the worker reaches the site")
        local.add_argument("--config", required=True, help="the host config file to write")

    def handle(self, *args: object, **opts: object) -> None:
        try:
            if opts["action"] == "token":
                if opts["minutes"] < 1:
                    raise CommandError("--minutes must be 1 or more")
                text = credentials.issue_enrollment_token(
                    str(opts["name"]), timedelta(minutes=int(opts["minutes"]))
                )
                self.stdout.write(text)
            elif opts["action"] == "revoke":
                host = Host.objects.filter(name=opts["name"]).first()
                if host is None:
                    raise CommandError(f"no such host: {opts['name']}")
                credentials.revoke(host)
                self.stdout.write(f"revoked the credential of {host.name}")
            elif opts["action"] == "enroll-local":
                self._enroll_local(str(opts["name"]), str(opts["site_url"]), str(opts["config"]))
            else:
                for host in Host.objects.all():
                    held = "enrolled" if host.credential_hash else "no credential"
                    self.stdout.write(f"{host.name}\t{host.state}\t{held}")
        except SiteError as exc:
            raise CommandError(str(exc)) from None

    def _enroll_local(self, name: str, site_url: str, config: str) -> None:
        """What ``python -m worker enroll`` does, in-process: the site runs on this machine."""
        import json
        import os

        from webapp.fleet.hostapi.views import enrolment

        token = credentials.issue_enrollment_token(name, timedelta(minutes=5))
        cfg = {"site_url": site_url, **enrolment(token, name, {})}  # facts come with its first beat
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(cfg, f, indent=2)
        self.stdout.write(f"enrolled {name}; host config in {config}")
