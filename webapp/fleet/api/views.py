"""The hosts API: where jobs can run, and (fleet admins) a host's drain, cordon and uncordon."""

from drf_spectacular.utils import extend_schema, extend_schema_view
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


class AdminStateIn(serializers.Serializer):
    """The admin's change of a host's state; ``set_admin_state`` checks the word."""

    action = serializers.CharField(max_length=20, help_text="drain, cordon or uncordon")


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
        request=AdminStateIn,
        responses={200: HostSerializer, **errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="admin-state", filter_backends=[])
    def admin_state(self, request: Request, name: str | None = None) -> Response:
        """Drain, cordon or uncordon the host (``{"action": ...}``): fleet admins only, as in the admin."""
        host = self.get_object()
        if not is_fleet_admin(request.user):
            raise Forbidden("only fleet admins may drain, cordon or uncordon a host")
        given = AdminStateIn(data=request.data)
        given.is_valid(raise_exception=True)
        set_admin_state(host, given.validated_data["action"], request.user)
        return Response(HostSerializer(host).data)
