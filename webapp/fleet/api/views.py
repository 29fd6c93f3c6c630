"""The hosts API: where jobs can run (every signed-in user sees the fleet, for now)."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from webapp.api.schema import errors
from webapp.api.viewsets import TeamScopedViewSet
from webapp.fleet.api.serializers import HostSerializer
from webapp.fleet.models import Host


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
