from rest_framework import viewsets

from webapp.fleet.api.serializers import HostSerializer
from webapp.fleet.models import Host


class HostViewSet(viewsets.ReadOnlyModelViewSet):
    """The fleet's hosts: every signed-in user may see where jobs can run."""

    serializer_class = HostSerializer
    queryset = Host.objects.all()
    lookup_field = "name"
    lookup_value_regex = "[^/]+"
