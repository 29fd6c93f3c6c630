"""The inventory API: what each host has, the actions on it (``actions``), and adopt for fleet admins."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.schema import errors
from webapp.api.viewsets import TeamScopedViewSet
from webapp.errors import Forbidden
from webapp.inventory import services
from webapp.inventory.api.actions import (
    ContainerActions,
    ImageActions,
    NetworkActions,
    VolumeActions,
)
from webapp.inventory.api.filters import InventoryFilter
from webapp.inventory.api.serializers import (
    AdoptSerializer,
    ContainerSerializer,
    ImageSerializer,
    NetworkSerializer,
    VolumeSerializer,
)
from webapp.inventory.models import Container, Image, Network, Volume
from webapp.streams.api import ContainerLogs


class HostObjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TeamScopedViewSet):
    """List and read one kind of host object; a superuser may adopt an unmanaged one."""

    filter_backends = [InventoryFilter]

    @action(detail=True, methods=["post"], filter_backends=[])
    def adopt(self, request: Request, pk: str | None = None) -> Response:
        """Give the object to a team (superusers only): it is managed from now on."""
        obj = self.get_object()
        if not request.user.is_superuser:
            raise Forbidden("only a superuser may adopt objects into a team")
        s = AdoptSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        obj = services.adopt(obj, s.validated_data["team"], request.user)
        return Response(self.get_serializer(obj).data)


def _schema(serializer: type) -> dict:
    return {
        "list": extend_schema(responses={200: serializer(many=True), **errors(400, 401)}),
        "retrieve": extend_schema(responses={200: serializer, **errors(401, 404)}),
        "adopt": extend_schema(
            request=AdoptSerializer,
            responses={200: serializer, **errors(400, 401, 403, 404)},
        ),
    }


@extend_schema_view(**_schema(ContainerSerializer))
class ContainerViewSet(ContainerLogs, ContainerActions, HostObjectViewSet):
    """Containers of every host, as the hosts last reported them."""

    queryset = Container.objects.select_related("host", "team")
    serializer_class = ContainerSerializer


@extend_schema_view(**_schema(ImageSerializer))
class ImageViewSet(ImageActions, HostObjectViewSet):
    """Images of every host."""

    queryset = Image.objects.select_related("host", "team")
    serializer_class = ImageSerializer


@extend_schema_view(**_schema(VolumeSerializer))
class VolumeViewSet(VolumeActions, HostObjectViewSet):
    """Volumes of every host."""

    queryset = Volume.objects.select_related("host", "team")
    serializer_class = VolumeSerializer


@extend_schema_view(**_schema(NetworkSerializer))
class NetworkViewSet(NetworkActions, HostObjectViewSet):
    """Networks of every host."""

    queryset = Network.objects.select_related("host", "team")
    serializer_class = NetworkSerializer
