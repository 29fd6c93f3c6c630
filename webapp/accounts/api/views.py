"""Teams in the API: every member reads its team; a team admin manages its members and reads
its quota, use and hosts (memberships change here, in the admin, or with ``manage.py teams``)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.accounts.api.serializers import MemberIn, RoleIn, TeamSerializer
from webapp.accounts.choices import Role
from webapp.accounts.models import Membership, Team
from webapp.api.schema import errors
from webapp.api.viewsets import TeamScopedViewSet
from webapp.errors import Conflict, Forbidden, Invalid, NotFound
from webapp.permissions import MANAGE, permits


def _check_manage(user: object, team: Team) -> None:
    if not permits(user, team, MANAGE):
        raise Forbidden(f"only the admins of team {team.name} manage its members")


def _keep_an_admin(team: Team, leaving: Membership) -> None:
    """A team keeps at least one admin: the last one cannot leave or step down."""
    others = Membership.objects.filter(team=team, role=Role.ADMIN).exclude(pk=leaving.pk)
    if leaving.role == Role.ADMIN and not others.exists():
        raise Conflict(f"{leaving.user} is the last admin of team {team.name}")


@extend_schema_view(
    list=extend_schema(responses={200: TeamSerializer(many=True), **errors(400, 401)}),
    retrieve=extend_schema(responses={200: TeamSerializer, **errors(401, 404)}),
)
class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TeamScopedViewSet):
    """The requester's teams (every team, for fleet admins)."""

    queryset = Team.objects.prefetch_related("memberships__user")
    serializer_class = TeamSerializer
    lookup_field = "slug"

    @extend_schema(request=MemberIn, responses={201: TeamSerializer, **errors(400, 401, 403, 404)})
    @action(detail=True, methods=["post"])
    def members(self, request: Request, slug: str | None = None) -> Response:
        """Add an existing user to the team with a role (team admins)."""
        team = self.get_object()
        _check_manage(request.user, team)
        s = MemberIn(data=request.data)
        s.is_valid(raise_exception=True)
        user = get_user_model().objects.filter(username=s.validated_data["user"]).first()
        if user is None:
            raise Invalid(f"no user {s.validated_data['user']!r}", field="user")
        if Membership.objects.filter(team=team, user=user).exists():
            raise Conflict(f"{user} is in team {team.name} already: change the role instead")
        Membership.objects.create(team=team, user=user, role=s.validated_data["role"])
        return Response(self.get_serializer(self.get_object()).data, status=201)

    @extend_schema(request=RoleIn, responses={200: TeamSerializer, **errors(400, 401, 403, 404)})
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"members/(?P<username>[^/]+)",
        url_name="member",
    )
    def member(self, request: Request, slug: str | None = None, username: str = "") -> Response:
        """Change a member's role (PATCH) or take them out of the team (DELETE)."""
        team = self.get_object()
        _check_manage(request.user, team)
        with transaction.atomic():
            membership = (
                Membership.objects.select_for_update()
                .filter(team=team, user__username=username)
                .first()
            )
            if membership is None:
                raise NotFound(f"{username} is not in team {team.name}")
            if request.method == "DELETE":
                _keep_an_admin(team, membership)
                membership.delete()
            else:
                s = RoleIn(data=request.data)
                s.is_valid(raise_exception=True)
                if s.validated_data["role"] != Role.ADMIN:
                    _keep_an_admin(team, membership)
                membership.role = s.validated_data["role"]
                membership.save()
        return Response(self.get_serializer(self.get_object()).data)
