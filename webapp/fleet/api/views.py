"""The hosts API: where jobs can run, and (fleet admins) a host's drain, cordon and uncordon."""

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.schema import errors
from webapp.api.viewsets import TeamScopedViewSet
from webapp.errors import Forbidden
from webapp.fleet.api.serializers import HostSerializer
from webapp.fleet.models import Host
from webapp.fleet.services import set_admin_state
from webapp.permissions import is_fleet_admin


@extend_schema_view(
    list=extend_schema(responses={200: HostSerializer(many=True), **errors(400, 401)}),
    retrieve=extend_schema(responses={200: HostSerializer, **errors(401, 404)}),
)
class HostViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TeamScopedViewSet):
    """The fleet's hosts and their facts."""

    serializer_class = HostSerializer
    queryset = Host.objects.all()
    lookup_field = "name"
    lookup_value_regex = "[^/]+"

    @extend_schema(
        request=inline_serializer(
            "HostAdminState", {"action": serializers.ChoiceField(["drain", "cordon", "uncordon"])}
        ),
        responses={200: HostSerializer, **errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="admin-state", filter_backends=[])
    def admin_state(self, request: Request, name: str | None = None) -> Response:
        """Drain, cordon or uncordon the host (``{"action": ...}``): fleet admins only, as in the admin."""
        host = self.get_object()
        if not is_fleet_admin(request.user):
            raise Forbidden("only fleet admins may drain, cordon or uncordon a host")
        set_admin_state(host, str(request.data.get("action", "")), request.user)
        return Response(HostSerializer(host).data)
