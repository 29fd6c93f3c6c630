"""What a host may report about its objects: typed, bounded serializers of the host API's bodies.

A host is not fully trusted: every field has a type and a size limit, and a
body that breaks one is a 400 naming the field, never a 500 and never a row
half-written. The shapes are those ``worker.inventory`` builds from the
runtime's records.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from webapp.inventory.choices import ContainerState, Health, Kind

#: most objects of one kind in one report, and most changes in one batch
MAX_OBJECTS = 10_000
MAX_CHANGES = 2_000
MAX_LABELS = 200
ENGINE_ID = {"max_length": 128, "allow_blank": False}
#: what a host may say a container's state is (``unknown`` is the site's word for silence)
REPORTED_STATES = [s for s in ContainerState.values if s != ContainerState.UNKNOWN]


class LabelsField(serializers.DictField):
    """``{"key": "value"}`` with bounded keys, values and count."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("default", dict)
        super().__init__(
            child=serializers.CharField(max_length=4096, allow_blank=True, trim_whitespace=False),
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> dict[str, str]:
        value = super().to_internal_value(data)
        if len(value) > MAX_LABELS:
            raise serializers.ValidationError(f"at most {MAX_LABELS} labels")
        if any(not key or len(key) > 256 for key in value):
            raise serializers.ValidationError("a label key is 1 to 256 characters")
        return value


def _text(max_length: int, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length, allow_blank=True, default="", trim_whitespace=False, **kwargs
    )


class PortIn(serializers.Serializer):
    container_port = serializers.IntegerField(min_value=1, max_value=65535)
    protocol = serializers.ChoiceField(choices=["tcp", "udp", "sctp"])
    host_ip = serializers.CharField(max_length=64, allow_null=True, default=None)
    host_port = serializers.IntegerField(
        min_value=0, max_value=65535, allow_null=True, default=None
    )


class MountIn(serializers.Serializer):
    type = serializers.ChoiceField(choices=["bind", "volume", "tmpfs"])
    name = _text(255)
    source = _text(4096)
    destination = serializers.CharField(max_length=4096)
    rw = serializers.BooleanField(default=True)


class EndpointIn(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    ip_address = _text(64)
    mac_address = _text(64)


class HostObjectIn(serializers.Serializer):
    engine_id = serializers.CharField(**ENGINE_ID)
    labels = LabelsField()
    created = serializers.DateTimeField(allow_null=True, default=None)


class ContainerIn(HostObjectIn):
    name = serializers.CharField(max_length=255)
    image = _text(512)
    image_id = _text(128)
    command = _text(64 * 1024)
    state = serializers.ChoiceField(choices=REPORTED_STATES)
    exit_code = serializers.IntegerField(
        min_value=-(2**31), max_value=2**31 - 1, allow_null=True, default=None
    )
    oom_killed = serializers.BooleanField(default=False)
    health = serializers.ChoiceField(choices=Health.values, default="", allow_blank=True)
    restart_count = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)
    ports = serializers.ListField(child=PortIn(), max_length=1000, default=list)
    mounts = serializers.ListField(child=MountIn(), max_length=1000, default=list)
    networks = serializers.ListField(child=EndpointIn(), max_length=100, default=list)
    started = serializers.DateTimeField(allow_null=True, default=None)
    finished = serializers.DateTimeField(allow_null=True, default=None)
    # its limits (HostConfig.NanoCpus / 1e9 and .Memory); left out: the stored ones stay
    cpus = serializers.FloatField(min_value=0, max_value=1024, required=False)
    memory = serializers.IntegerField(min_value=0, max_value=2**62, required=False)
    # only in snapshots: a change without them leaves the last measured sizes
    size_rw = serializers.IntegerField(min_value=0, max_value=2**62, required=False)
    size_root_fs = serializers.IntegerField(min_value=0, max_value=2**62, required=False)


class ImageIn(HostObjectIn):
    tags = serializers.ListField(child=serializers.CharField(max_length=512), max_length=1000)
    digests = serializers.ListField(
        child=serializers.CharField(max_length=512), max_length=1000, default=list
    )
    size = serializers.IntegerField(min_value=0, max_value=2**62)


class VolumeIn(HostObjectIn):
    name = serializers.CharField(max_length=255)
    driver = serializers.CharField(max_length=64, default="local")
    mountpoint = _text(4096)
    # only in snapshots: a change without it leaves the last measured size
    size = serializers.IntegerField(min_value=0, max_value=2**62, required=False)


class NetworkIn(HostObjectIn):
    name = serializers.CharField(max_length=255)
    driver = serializers.CharField(max_length=64)
    subnet = _text(64)
    gateway = _text(64)
    internal = serializers.BooleanField(default=False)


RECORDS: dict[str, type[HostObjectIn]] = {
    Kind.CONTAINER: ContainerIn,
    Kind.IMAGE: ImageIn,
    Kind.VOLUME: VolumeIn,
    Kind.NETWORK: NetworkIn,
}


class ChangeIn(serializers.Serializer):
    """One object as it is now (``object``), or gone (``object`` null)."""

    kind = serializers.ChoiceField(choices=Kind.choices)
    engine_id = serializers.CharField(**ENGINE_ID)
    object = serializers.DictField(allow_null=True)

    def validate(self, attrs: dict) -> dict:
        record = attrs["object"]
        if record is None:
            return attrs
        s = RECORDS[attrs["kind"]](data=record)
        if not s.is_valid():
            raise serializers.ValidationError({"object": s.errors})
        if s.validated_data["engine_id"] != attrs["engine_id"]:
            raise serializers.ValidationError({"object": ["engine_id differs from the change's"]})
        attrs["object"] = s.validated_data
        return attrs


class ChangesIn(serializers.Serializer):
    """Events ``after`` < id <= ``cursor`` of the host's stream, as the objects they left."""

    after = serializers.IntegerField(min_value=0, max_value=2**62)
    cursor = serializers.IntegerField(min_value=1, max_value=2**62)
    changes = serializers.ListField(child=ChangeIn(), max_length=MAX_CHANGES)

    def validate(self, attrs: dict) -> dict:
        if attrs["cursor"] <= attrs["after"]:
            raise serializers.ValidationError({"cursor": ["must be larger than after"]})
        return attrs


def _unique(records: list[dict]) -> list[dict]:
    seen = set()
    for r in records:
        if r["engine_id"] in seen:
            raise serializers.ValidationError(f"engine_id {r['engine_id']!r} is listed twice")
        seen.add(r["engine_id"])
    return records


class SnapshotIn(serializers.Serializer):
    """Everything the host has, read after event ``cursor``."""

    cursor = serializers.IntegerField(min_value=0, max_value=2**62)
    containers = serializers.ListField(child=ContainerIn(), max_length=MAX_OBJECTS)
    images = serializers.ListField(child=ImageIn(), max_length=MAX_OBJECTS)
    volumes = serializers.ListField(child=VolumeIn(), max_length=MAX_OBJECTS)
    networks = serializers.ListField(child=NetworkIn(), max_length=MAX_OBJECTS)

    validate_containers = validate_images = validate_volumes = validate_networks = staticmethod(
        _unique
    )
