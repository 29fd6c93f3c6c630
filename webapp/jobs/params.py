"""The parameters of each runtime job kind: typed, bounded, checked at enqueue.

Every field either holds a value the host's engine will accept or is a field
error now (``webapp.jobs.grammar`` is Docker's grammar); nothing a team may
not do on a shared host is offered (no privileged mode, host namespaces,
capabilities, devices or host paths: those are for fleet admins, later).
"""

from __future__ import annotations

from collections.abc import Callable

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webapp.jobs import grammar

LIST_MAX = 64
TEXT_MAX = 4096


class GrammarField(serializers.CharField):
    """A string checked by one of ``webapp.jobs.grammar``'s checkers."""

    def __init__(self, check: Callable[[str], object], **kwargs: object) -> None:
        kwargs.setdefault("max_length", 512)
        super().__init__(**kwargs)
        self.check = check

    def to_internal_value(self, data: object) -> str:
        value = super().to_internal_value(data)
        try:
            self.check(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value


@extend_schema_field({"oneOf": [{"type": "string", "example": "512m"}, {"type": "integer"}]})
class SizeField(serializers.Field):
    """``512m``, ``1g`` or a number of bytes, stored as bytes."""

    def __init__(self, minimum: int = 0, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.minimum = minimum

    def to_internal_value(self, data: object) -> int:
        if not isinstance(data, int | str) or isinstance(data, bool):
            raise serializers.ValidationError("a size such as 512m or 1g, or a number of bytes")
        try:
            value = grammar.size(data)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None
        if value and value < self.minimum:
            raise serializers.ValidationError(f"at least {self.minimum} bytes")
        return value

    def to_representation(self, value: int) -> int:
        return value


def _strings(check: Callable[[str], object] | None = None, **kwargs: object) -> serializers.Field:
    child = GrammarField(check) if check else serializers.CharField(max_length=TEXT_MAX)
    return serializers.ListField(child=child, max_length=LIST_MAX, **kwargs)


class LabelsField(serializers.DictField):
    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("required", False)
        super().__init__(
            child=serializers.CharField(max_length=TEXT_MAX, allow_blank=True), **kwargs
        )

    def to_internal_value(self, data: object) -> dict:
        value = super().to_internal_value(data)
        if len(value) > LIST_MAX:
            raise serializers.ValidationError(f"at most {LIST_MAX} labels")
        for key in value:
            if not key or len(key) > 255 or "=" in key or not key.isprintable():
                raise serializers.ValidationError(f"invalid label key {key!r}")
        return value


class EnvField(serializers.DictField):
    """``{"KEY": "value"}``: keys are shell names, values any text."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            child=serializers.CharField(max_length=TEXT_MAX, allow_blank=True), **kwargs
        )

    def to_internal_value(self, data: object) -> dict:
        value = super().to_internal_value(data)
        if len(value) > LIST_MAX:
            raise serializers.ValidationError(f"at most {LIST_MAX} variables")
        for key in value:
            try:
                grammar.env_key(key)
            except ValueError as exc:
                raise serializers.ValidationError(str(exc)) from None
        return value


def _container() -> serializers.Field:
    """Which container: its engine id (or a prefix of it) or its name."""
    return GrammarField(lambda v: grammar.object_name(v, "container"), max_length=128)


class ImagePull(serializers.Serializer):
    reference = GrammarField(grammar.image_reference, max_length=grammar.REFERENCE_MAX)


class ImageTag(serializers.Serializer):
    image = GrammarField(grammar.image_ref_or_id)
    target = GrammarField(grammar.image_reference, max_length=grammar.REFERENCE_MAX)


class ImagePush(serializers.Serializer):
    image = GrammarField(grammar.image_ref_or_id)
    target = GrammarField(grammar.image_reference, max_length=grammar.REFERENCE_MAX)
    #: the site's registry whose credentials the host gets with its claim (never in here)
    registry = serializers.IntegerField(min_value=1, required=False, allow_null=True)


#: the most a Dockerfile given as text may hold (it is stored in the job's parameters)
DOCKERFILE_MAX = 256 * 1024


class ImageBuild(serializers.Serializer):
    """``wharf build``'s options; the context, if any, is the job's upload."""

    tags = _strings(grammar.image_reference, required=False)
    dockerfile = serializers.CharField(
        max_length=DOCKERFILE_MAX,
        required=False,
        trim_whitespace=False,
        help_text="the Dockerfile's text (default: the context's Dockerfile)",
    )
    dockerfile_path = serializers.RegexField(
        r"^[^\0]{1,1024}$",
        default="Dockerfile",
        help_text="the Dockerfile's path inside the context",
    )
    build_args = EnvField(required=False)
    target = GrammarField(
        lambda v: grammar.object_name(v, "target stage"), max_length=128, required=False
    )
    no_cache = serializers.BooleanField(default=False)
    #: whether a context archive was uploaded with the job (the host fetches it)
    upload = serializers.BooleanField(default=False)

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("upload") and not attrs.get("dockerfile"):
            raise serializers.ValidationError(
                {"dockerfile": "give a Dockerfile's text, a context archive, or both"}
            )
        return attrs


class ImageLoad(serializers.Serializer):
    """``wharf load``: the archive is the job's upload."""

    upload = serializers.BooleanField(default=True)


class ImageImport(serializers.Serializer):
    """``wharf import``: the root filesystem tar is the job's upload."""

    reference = GrammarField(
        grammar.image_reference, max_length=grammar.REFERENCE_MAX, required=False
    )
    message = serializers.CharField(max_length=TEXT_MAX, required=False, allow_blank=True)
    upload = serializers.BooleanField(default=True)


class ImageRemove(serializers.Serializer):
    image = GrammarField(grammar.image_ref_or_id)
    force = serializers.BooleanField(default=False)


class Prune(serializers.Serializer):
    all = serializers.BooleanField(default=False)


class HealthCheck(serializers.Serializer):
    """Docker's ``--health-*`` options; durations in seconds."""

    command = serializers.ListField(
        child=serializers.CharField(max_length=TEXT_MAX), min_length=1, max_length=LIST_MAX
    )
    interval = serializers.FloatField(min_value=0.001, max_value=86400, default=30)
    timeout = serializers.FloatField(min_value=0.001, max_value=86400, default=30)
    retries = serializers.IntegerField(min_value=1, max_value=100, default=3)
    start_period = serializers.FloatField(min_value=0, max_value=86400, default=0)


class ContainerCreate(serializers.Serializer):
    """``wharf run``'s options that a team may use."""

    image = GrammarField(grammar.image_ref_or_id)
    name = GrammarField(
        lambda v: grammar.object_name(v, "container name"), max_length=128, required=False
    )
    command = _strings(required=False)
    entrypoint = _strings(required=False)
    env = EnvField(required=False)
    ports = _strings(grammar.port_spec, required=False)
    volumes = _strings(grammar.mount_spec, required=False)
    network = GrammarField(
        lambda v: grammar.object_name(v, "network"), max_length=128, required=False
    )
    restart = GrammarField(grammar.restart_policy, max_length=32, default="no")
    labels = LabelsField()
    user = serializers.RegexField(
        r"^[A-Za-z0-9_.-]{1,64}(?::[A-Za-z0-9_.-]{1,64})?$", required=False
    )
    workdir = serializers.RegexField(r"^/[^\0]{0,1023}$", required=False)
    memory = SizeField(minimum=6 * 1024 * 1024, required=False)
    cpus = serializers.FloatField(min_value=0.01, max_value=1024, required=False)
    health = HealthCheck(required=False)
    start = serializers.BooleanField(default=True)

    #: Docker's options that reach past the container: asked for, they are refused by name
    #: (never silently dropped), for everyone while no worker offers them
    ADMIN_ONLY = ("privileged", "cap_add", "devices", "pid", "ipc", "userns", "security_opt")

    def validate(self, attrs: dict) -> dict:
        data = self.initial_data if hasattr(self.initial_data, "get") else {}
        for key in self.ADMIN_ONLY:
            if data.get(key):
                raise serializers.ValidationError(
                    {key: f"{key} is for fleet admins only, and no worker offers it yet"}
                )
        return attrs

    def validate_network(self, value: str) -> str:
        if value == "host" or value.startswith("container"):
            raise serializers.ValidationError(
                f"network {value!r} shares the host's or another container's stack: "
                "for fleet admins only"
            )
        return value


class ContainerRef(serializers.Serializer):
    container = _container()


class ContainerStop(ContainerRef):
    timeout = serializers.IntegerField(min_value=0, max_value=3600, required=False)


class ContainerKill(ContainerRef):
    signal = GrammarField(grammar.signal_name, max_length=16, default="KILL")


class ContainerRemove(ContainerRef):
    force = serializers.BooleanField(default=False)
    volumes = serializers.BooleanField(default=False)


class ContainerRename(ContainerRef):
    name = GrammarField(lambda v: grammar.object_name(v, "container name"), max_length=128)


class ContainerExec(ContainerRef):
    command = _strings(min_length=1)
    user = serializers.RegexField(
        r"^[A-Za-z0-9_.-]{1,64}(?::[A-Za-z0-9_.-]{1,64})?$", required=False
    )
    workdir = serializers.RegexField(r"^/[^\0]{0,1023}$", required=False)
    env = EnvField(required=False)


class ContainerCommit(ContainerRef):
    reference = GrammarField(
        grammar.image_reference, max_length=grammar.REFERENCE_MAX, required=False
    )


class VolumeCreate(serializers.Serializer):
    name = GrammarField(grammar.volume_name, max_length=128, required=False)
    labels = LabelsField()


class VolumeRemove(serializers.Serializer):
    name = GrammarField(grammar.volume_name, max_length=128)
    force = serializers.BooleanField(default=False)


class NetworkCreate(serializers.Serializer):
    name = GrammarField(lambda v: grammar.object_name(v, "network name"), max_length=128)
    subnet = serializers.RegexField(r"^\d{1,3}(?:\.\d{1,3}){3}/\d{1,2}$", required=False)
    internal = serializers.BooleanField(default=False)
    labels = LabelsField()

    def validate_name(self, value: str) -> str:
        if value in ("bridge", "host", "none"):
            raise serializers.ValidationError(f"{value!r} is a predefined network")
        return value


class NetworkRef(serializers.Serializer):
    network = GrammarField(lambda v: grammar.object_name(v, "network"), max_length=128)


class NetworkConnect(NetworkRef):
    container = _container()
    aliases = _strings(lambda v: grammar.object_name(v, "alias"), required=False)


class NetworkDisconnect(NetworkRef):
    container = _container()
    force = serializers.BooleanField(default=False)


class ImageRef(serializers.Serializer):
    image = GrammarField(grammar.image_ref_or_id)


class VolumeFiles(serializers.Serializer):
    """One directory of a volume, read-only; the path is resolved inside the volume on the host."""

    name = GrammarField(grammar.volume_name, max_length=128)
    path = serializers.CharField(max_length=4096, default="/", trim_whitespace=False)

    def validate_path(self, value: str) -> str:
        if "\0" in value or not value.isprintable():
            raise serializers.ValidationError("a path of printable characters")
        return value
