"""``manage.py teams create|add|quota|grant``: teams, members, quotas and host grants, for scripts."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.text import slugify

from webapp.accounts.choices import Role
from webapp.accounts.models import Membership, Quota, Team
from webapp.fleet.models import Host, HostGrant, HostPool
from webapp.jobs import grammar


class Command(BaseCommand):
    help = "Create a team, add a member, set its quota, grant it a host or a pool of hosts."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a team")
        create.add_argument("team")
        add = sub.add_parser(
            "add",
            help="add USER to TEAM as ROLE: viewer (reads), operator (also runs jobs), "
            "admin (the team's admin: also manages its members); makes the user if missing",
        )
        add.add_argument("team")
        add.add_argument("user")
        add.add_argument("role", choices=Role.values)
        quota = sub.add_parser("quota", help="set a team's limits (0: no limit)")
        quota.add_argument("team")
        quota.add_argument("--containers", type=int)
        quota.add_argument("--cpus", type=float)
        quota.add_argument("--memory", help="a size such as 512m or 4g")
        quota.add_argument("--storage", help="a size such as 10g")
        grant = sub.add_parser("grant", help="let TEAM use HOST (or every host of --pool NAME)")
        grant.add_argument("team")
        grant.add_argument("host", nargs="?", default="")
        grant.add_argument("--pool", default="", help="grant this pool of hosts instead")

    def handle(self, *args: object, **opts: object) -> None:
        action = opts["action"]
        if action == "create":
            self._create(str(opts["team"]))
            return
        team = _team(str(opts["team"]))
        if action == "add":
            self._add(team, str(opts["user"]), str(opts["role"]))
        elif action == "quota":
            self._quota(team, opts)
        else:
            self._grant(team, str(opts["host"]), str(opts["pool"]))

    def _create(self, name: str) -> None:
        slug = slugify(name)
        if not slug:
            raise CommandError(f"invalid team name {name!r}: it needs letters or digits")
        if Team.objects.filter(slug=slug).exists() or Team.objects.filter(name=name).exists():
            raise CommandError(f"team {name} exists already")
        Team.objects.create(name=name, slug=slug)
        self.stdout.write(f"created team {name}")

    def _add(self, team: Team, username: str, role: str) -> None:
        User = get_user_model()
        with transaction.atomic():
            user = User.objects.filter(username=username).first()
            if user is None:
                password = secrets.token_urlsafe(12)
                user = User.objects.create_user(username, password=password)
                self.stdout.write(f"created user {username}; password: {password}  (shown once)")
            Membership.objects.update_or_create(user=user, team=team, defaults={"role": role})
        self.stdout.write(f"{username} is {Role(role).label.lower()} of {team.name}")

    def _quota(self, team: Team, opts: dict) -> None:
        quota, _ = Quota.objects.get_or_create(team=team)
        for field in ("containers", "cpus", "memory", "storage"):
            value = opts[field]
            if value is None:
                continue
            if field in ("memory", "storage"):
                try:
                    value = grammar.size(str(value), field)
                except ValueError as exc:
                    raise CommandError(str(exc)) from None
            if value < 0:
                raise CommandError(f"--{field} must be 0 (no limit) or more")
            setattr(quota, field, value or None)
        quota.save()
        self.stdout.write(f"quota of {team.name}: {describe(quota)}")

    def _grant(self, team: Team, host_name: str, pool_name: str) -> None:
        if bool(host_name) == bool(pool_name):
            raise CommandError("name a HOST or a --pool, one of the two")
        if pool_name:
            pool = HostPool.objects.filter(name=pool_name).first()
            if pool is None:
                raise CommandError(f"no such host pool: {pool_name}")
            pool.teams.add(team)
            self.stdout.write(f"granted pool {pool.name} to {team.name}")
            return
        host = Host.objects.filter(name=host_name).first()
        if host is None:
            raise CommandError(f"no such host: {host_name}")
        HostGrant.objects.get_or_create(team=team, host=host)
        self.stdout.write(f"granted {host.name} to {team.name}")


def _team(name: str) -> Team:
    team = Team.objects.filter(slug=name).first() or Team.objects.filter(name=name).first()
    if team is None:
        raise CommandError(f"no such team: {name}")
    return team


def describe(quota: Quota) -> str:
    """One line: each limit, or "no limit"."""
    parts = [
        f"{quota.containers} containers" if quota.containers else "",
        f"{quota.cpus:g} CPUs" if quota.cpus else "",
        f"{quota.memory} bytes of memory" if quota.memory else "",
        f"{quota.storage} bytes of storage" if quota.storage else "",
    ]
    return ", ".join(p for p in parts if p) or "no limit"
