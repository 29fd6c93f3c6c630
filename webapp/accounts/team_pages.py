"""The teams pages: my teams, one team's members (its admins add, change and take out members),
and the dashboard's card of each of my teams' quota use.

Members change through ``webapp.accounts.services``, the teams API's own
functions, so the page refuses what the API refuses, in its words (the last
admin stays; a user who does not exist is the username field's error). Every
member of a team reads its members; another team's page is a 404.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from webapp.accounts import services
from webapp.accounts.api.serializers import MemberIn, RoleIn
from webapp.accounts.choices import Role
from webapp.accounts.models import Membership, Team
from webapp.accounts.quotas import LIMITS, quota_uses, size_text
from webapp.errors import SiteError
from webapp.inventory.page_helpers import field_errors
from webapp.pages import login_required
from webapp.permissions import MANAGE, VIEW, permits

#: how the dashboard names each limit of a quota
LIMIT_LABELS = {
    "containers": "Containers",
    "cpus": "CPUs",
    "memory": "Memory",
    "storage": "Volume storage",
}


def _amount(field: str, n: float) -> str:
    return size_text(n) if field in ("memory", "storage") else f"{n:g}"


def quota_cards(user: object) -> list[dict]:
    """Per team I am in: each limit's use and limit as text, with the numbers for a bar."""
    cards = []
    teams = list(Team.objects.filter(memberships__user=user).order_by("name"))
    uses = quota_uses([team.pk for team in teams])
    for team in teams:
        use = uses[team.pk]
        rows = []
        for field in LIMITS:
            used, limit = use["in_use"][field], use["limits"][field]
            rows.append(
                {
                    "field": field,
                    "label": LIMIT_LABELS[field],
                    "used": _amount(field, used),
                    "limit": _amount(field, limit) if limit else None,
                    "value": used,
                    "max": limit,
                    "high": limit * 0.8 if limit else None,
                    "over": bool(limit and used > limit),
                }
            )
        cards.append({"team": team, "rows": rows})
    return cards


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    """My teams (every team, for fleet admins), my role in each, how many members."""
    teams = (
        Team.objects.for_user(request.user, VIEW)
        .annotate(n_members=Count("memberships"))
        .order_by("name")
    )
    roles = dict(request.user.memberships.values_list("team_id", "role"))
    rows = [{"team": t, "role": Role(roles[t.pk]).label if t.pk in roles else ""} for t in teams]
    return render(request, "accounts/teams.html", {"rows": rows})


def _team(request: HttpRequest, slug: str) -> Team:
    return get_object_or_404(Team.objects.for_user(request.user, VIEW), slug=slug)


def _members_page(
    request: HttpRequest,
    team: Team,
    form: dict | None = None,
    errors: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    members = Membership.objects.filter(team=team).select_related("user").order_by("user__username")
    context = {
        "team": team,
        "members": members,
        "manages": permits(request.user, team, MANAGE),
        "roles": Role.choices,
        "form": form or {"user": "", "role": Role.OPERATOR},
        "errors": errors or {},
    }
    return render(request, "accounts/members.html", context, status=status)


@login_required
def team_members(request: HttpRequest, team: str) -> HttpResponse:
    """A team's members and roles; its admins also get the forms to change them."""
    return _members_page(request, _team(request, team))


@login_required
@require_POST
def member_add(request: HttpRequest, team: str) -> HttpResponse:
    """Add an existing user by username with a role: the API's check, its errors by field."""
    found = _team(request, team)
    form = {
        "user": request.POST.get("user", "").strip()[:200],
        "role": request.POST.get("role", ""),
    }
    try:
        services.check_manage(request.user, found)
    except SiteError as exc:
        return _members_page(request, found, form, {"other": [str(exc)]}, status=exc.status)
    s = MemberIn(data=form)
    if not s.is_valid():
        return _members_page(request, found, form, field_errors(s.errors), status=400)
    try:
        services.add_member(request.user, found, s.validated_data["user"], s.validated_data["role"])
    except SiteError as exc:
        errors = {exc.field or "other": [str(exc)]}
        return _members_page(request, found, form, errors, status=exc.status)
    messages.success(
        request, f"Added {form['user']} to {found.name} as {Role(form['role']).label}."
    )
    return redirect("team-page-members", team=found.slug)


def _member_change(request: HttpRequest, team: str, change: Callable[[Team], str]) -> HttpResponse:
    """Run CHANGE on the team (one of mine), say how it went, and show its members again."""
    found = _team(request, team)
    try:
        message = change(found)
    except SiteError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, message)
    return redirect("team-page-members", team=found.slug)


@login_required
@require_POST
def member_role(request: HttpRequest, team: str, username: str) -> HttpResponse:
    """Change a member's role; the last admin cannot step down."""

    def change(found: Team) -> str:
        services.check_manage(request.user, found)
        s = RoleIn(data={"role": request.POST.get("role", "")})
        if not s.is_valid():
            raise SiteError("; ".join(field_errors(s.errors)["role"]), field="role")
        services.set_role(request.user, found, username, s.validated_data["role"])
        return f"{username} is now {Role(s.validated_data['role']).label} of {found.name}."

    return _member_change(request, team, change)


@login_required
@require_POST
def member_remove(request: HttpRequest, team: str, username: str) -> HttpResponse:
    """Take a member out of the team; the last admin cannot leave."""

    def change(found: Team) -> str:
        services.remove_member(request.user, found, username)
        return f"Took {username} out of {found.name}."

    return _member_change(request, team, change)
