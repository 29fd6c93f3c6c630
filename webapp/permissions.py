"""Who may do what with a team's objects: one queryset method every view, page and socket uses.

Teams own resources; a user reaches them through a membership whose role
grants actions: ``view`` (every role: viewer, operator, team admin), ``run``
(start and cancel jobs, change the team's resources: operators and team
admins) and ``manage`` (the team's memberships, and reading its quota, host
grants and audit log: team admins). Fleet admins (staff) reach
every team. ``Model.objects.for_user(user, action)`` is the only way the site
asks this, so the REST API (``webapp.api.viewsets``), the pages and the
websocket consumers restrict by the same rule; an object outside it is "not
found", never "forbidden", so nobody learns another team's objects exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from webapp.accounts.choices import MANAGE_ROLES, RUN_ROLES, Role

if TYPE_CHECKING:
    from webapp.accounts.models import Team

VIEW = "view"
RUN = "run"
MANAGE = "manage"
#: the roles that grant each action
ROLES: dict[str, frozenset[str]] = {
    VIEW: frozenset(Role),
    RUN: RUN_ROLES,
    MANAGE: MANAGE_ROLES,
}


def is_fleet_admin(user: object) -> bool:
    """Staff users run the fleet: they reach every team's objects."""
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_staff", False))


def _roles(action: str) -> frozenset[str]:
    try:
        return ROLES[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r}; one of {sorted(ROLES)}") from None


def team_ids(user: object, action: str) -> models.QuerySet | None:
    """A subquery of the ids of the teams where USER may ACTION; None means every team."""
    from webapp.accounts.models import Membership

    roles = _roles(action)
    if is_fleet_admin(user):
        return None
    if not getattr(user, "is_authenticated", False):
        return Membership.objects.none().values("team_id")
    return Membership.objects.filter(user=user, role__in=roles).values("team_id")


class TeamOwnedQuerySet(models.QuerySet):
    """Objects with a ``team`` foreign key: restricted to the teams where the user may act."""

    team_field = "team"

    def for_user(self, user: object, action: str = VIEW) -> models.QuerySet:
        ids = team_ids(user, action)
        return self if ids is None else self.filter(**{f"{self.team_field}_id__in": ids})


class TeamQuerySet(models.QuerySet):
    """Teams themselves: those where the user may act."""

    def for_user(self, user: object, action: str = VIEW) -> models.QuerySet[Team]:
        ids = team_ids(user, action)
        return self if ids is None else self.filter(pk__in=ids)


def granted_hosts(team_ids: object) -> models.Q:
    """Hosts granted to any of TEAM_IDS (ids or a subquery of ids), alone or through a pool."""
    from webapp.fleet.models import HostGrant, HostPool

    direct = HostGrant.objects.filter(team_id__in=team_ids).values("host_id")
    pooled = HostPool.hosts.through.objects.filter(hostpool__teams__in=team_ids).values("host_id")
    return models.Q(pk__in=direct) | models.Q(pk__in=pooled)


def host_team_ids(host_id: int) -> set[int]:
    """The teams HOST_ID is granted to, alone or through a pool: ``granted_hosts`` read backwards."""
    from webapp.fleet.models import HostGrant, HostPool

    direct = HostGrant.objects.filter(host_id=host_id).values_list("team_id", flat=True)
    pooled = HostPool.teams.through.objects.filter(hostpool__hosts=host_id)
    return set(direct) | set(pooled.values_list("team_id", flat=True))


class FleetQuerySet(models.QuerySet):
    """Hosts: fleet admins see every host, others the hosts granted to their teams.

    A grant names a team and a host, or a team and a pool of hosts
    (``webapp.fleet.models.HostGrant``, ``HostPool``). Every role of a team
    sees its hosts, whatever the ACTION: whether the user may start work there
    is its team's right, which ``webapp.jobs.services.check_create_job`` checks
    (so a viewer is told it may only watch, not that the host does not exist).
    """

    def for_user(self, user: object, action: str = VIEW) -> models.QuerySet:
        _roles(action)
        ids = team_ids(user, VIEW)
        return self if ids is None else self.filter(granted_hosts(ids))

    def granted_to(self, team: Team) -> models.QuerySet:
        """The hosts TEAM may use, whoever asks (the scheduler and the job checks)."""
        return self.filter(granted_hosts([team.pk]))

    def names_by_team(self, team_ids: list[int]) -> dict[int, list[str]]:
        """The names of the hosts each of TEAM_IDS may use, sorted, in three queries however many."""
        from webapp.fleet.models import HostGrant, HostPool

        names: dict[int, set[str]] = {pk: set() for pk in team_ids}
        for team_id, name in HostGrant.objects.filter(team_id__in=team_ids).values_list(
            "team_id", "host__name"
        ):
            names[team_id].add(name)
        pools: dict[int, list[int]] = {}
        for team_id, pool_id in HostPool.teams.through.objects.filter(
            team_id__in=team_ids
        ).values_list("team_id", "hostpool_id"):
            pools.setdefault(pool_id, []).append(team_id)
        if pools:
            for pool_id, name in HostPool.hosts.through.objects.filter(
                hostpool_id__in=list(pools)
            ).values_list("hostpool_id", "host__name"):
                for team_id in pools[pool_id]:
                    names[team_id].add(name)
        return {pk: sorted(found) for pk, found in names.items()}


def permits(user: object, obj: models.Model, action: str) -> bool:
    """May USER do ACTION with OBJ (an object it may already see)?"""
    return type(obj)._default_manager.for_user(user, action).filter(pk=obj.pk).exists()
