"""What the inventory API reads: one serializer per kind, in the issue's shapes.

``host`` is the host's name and ``team`` the team's slug (null while the
object is unmanaged). Ports, mounts and networks have typed item shapes so
the schema describes them exactly.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webapp.accounts.models import Team
from webapp.inventory.models import Container, Image, Network, Volume
from webapp.inventory.reports import EndpointIn, MountIn, PortIn


class HostObjectSerializer(serializers.ModelSerializer):
    host = serializers.CharField(source="host.name", read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    labels = serializers.DictField(child=serializers.CharField(), read_only=True)

    COMMON = ["id", "engine_id", "host", "team"]


@extend_schema_field(PortIn(many=True))
class PortsField(serializers.JSONField):
    pass


@extend_schema_field(MountIn(many=True))
class MountsField(serializers.JSONField):
    pass


@extend_schema_field(EndpointIn(many=True))
class NetworksField(serializers.JSONField):
    pass


class ContainerSerializer(HostObjectSerializer):
    ports = PortsField(read_only=True)
    mounts = MountsField(read_only=True)
    networks = NetworksField(read_only=True)

    class Meta:
        model = Container
        fields = [
            "id",
            "engine_id",
            "name",
            "host",
            "team",
            "image",
            "command",
            "state",
            "exit_code",
            "health",
            "restart_count",
            "ports",
            "mounts",
            "networks",
            "labels",
            "created",
            "started",
            "finished",
            "cpus",
            "memory",
            "size_rw",
            "size_root_fs",
        ]
        read_only_fields = fields


class ImageSerializer(HostObjectSerializer):
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)
    digests = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Image
        fields = [
            *HostObjectSerializer.COMMON,
            "name",
            "tags",
            "digests",
            "size",
            "labels",
            "created",
        ]
        read_only_fields = fields


class VolumeSerializer(HostObjectSerializer):
    class Meta:
        model = Volume
        fields = [
            *HostObjectSerializer.COMMON,
            "name",
            "driver",
            "mountpoint",
            "size",
            "labels",
            "created",
        ]
        read_only_fields = fields


class NetworkSerializer(HostObjectSerializer):
    class Meta:
        model = Network
        fields = [
            *HostObjectSerializer.COMMON,
            "name",
            "driver",
            "subnet",
            "gateway",
            "internal",
            "labels",
            "created",
        ]
        read_only_fields = fields


class AdoptSerializer(serializers.Serializer):
    team = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Team.objects.all(),
        error_messages={"does_not_exist": 'no team "{value}"'},
    )


SERIALIZERS: dict[type, type[HostObjectSerializer]] = {
    Container: ContainerSerializer,
    Image: ImageSerializer,
    Volume: VolumeSerializer,
    Network: NetworkSerializer,
}
