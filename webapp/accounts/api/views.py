"""Teams in the API: every member reads its team; a team admin manages its members and reads
its quota, use and hosts (memberships change here, in the admin, or with ``manage.py teams``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.accounts import services
from webapp.accounts.api.serializers import MemberIn, RoleIn, TeamSerializer
from webapp.accounts.models import Team
from webapp.api.schema import errors
from webapp.api.viewsets import TeamScopedViewSet


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
        services.check_manage(request.user, team)
        s = MemberIn(data=request.data)
        s.is_valid(raise_exception=True)
        services.add_member(request.user, team, s.validated_data["user"], s.validated_data["role"])
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
        services.check_manage(request.user, team)
        if request.method == "DELETE":
            services.remove_member(request.user, team, username)
        else:
            s = RoleIn(data=request.data)
            s.is_valid(raise_exception=True)
            services.set_role(request.user, team, username, s.validated_data["role"])
        return Response(self.get_serializer(self.get_object()).data)
