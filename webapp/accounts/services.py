"""Check, then do: a team's admins add members, change their roles and take them out.

The teams API and the members page call these, so both refuse the same
things in the same words: someone who does not manage the team, a user
who does not exist or is in the team already, and the last admin leaving
or stepping down (a team keeps one admin, or nobody could manage it but
the fleet admins). The audit log records each change from the membership's
signals (``webapp.audit.signals``).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from webapp.accounts.choices import Role
from webapp.accounts.models import Membership, Team
from webapp.errors import Conflict, Forbidden, Invalid, NotFound
from webapp.permissions import MANAGE, permits


def check_manage(user: object, team: Team) -> None:
    """Refuse USER unless it manages TEAM (its team admins and the fleet admins)."""
    if not permits(user, team, MANAGE):
        raise Forbidden(f"only the admins of team {team.name} manage its members")


def _keep_an_admin(team: Team, leaving: Membership) -> None:
    """A team keeps at least one admin: the last one cannot leave or step down."""
    others = Membership.objects.filter(team=team, role=Role.ADMIN).exclude(pk=leaving.pk)
    if leaving.role == Role.ADMIN and not others.exists():
        raise Conflict(f"{leaving.user} is the last admin of team {team.name}")


def add_member(user: object, team: Team, username: str, role: str) -> Membership:
    """Add the existing user USERNAME to TEAM with ROLE (a role of ``Role``)."""
    check_manage(user, team)
    member = get_user_model().objects.filter(username=username).first()
    if member is None:
        raise Invalid(f"no user {username!r}", field="user")
    if Membership.objects.filter(team=team, user=member).exists():
        raise Conflict(f"{member} is in team {team.name} already: change the role instead")
    return Membership.objects.create(team=team, user=member, role=role)


def _membership(team: Team, username: str) -> Membership:
    """USERNAME's membership of TEAM, locked until the caller's transaction ends."""
    membership = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(team=team, user__username=username)
        .first()
    )
    if membership is None:
        raise NotFound(f"{username} is not in team {team.name}")
    return membership


def set_role(user: object, team: Team, username: str, role: str) -> Membership:
    """Give USERNAME the ROLE in TEAM; the last admin cannot step down."""
    check_manage(user, team)
    with transaction.atomic():
        membership = _membership(team, username)
        if role != Role.ADMIN:
            _keep_an_admin(team, membership)
        membership.role = role
        membership.save()
    return membership


def remove_member(user: object, team: Team, username: str) -> None:
    """Take USERNAME out of TEAM; the last admin cannot leave."""
    check_manage(user, team)
    with transaction.atomic():
        membership = _membership(team, username)
        _keep_an_admin(team, membership)
        membership.delete()
