"""What the inventory API's actions read: the job parameters, plus where and for whom.

The parameters are the job kinds' own serializers (``webapp.jobs.params``),
so a request is checked exactly as the job would be, field by field.
"""

from __future__ import annotations

import tarfile
from typing import BinaryIO

from rest_framework import serializers

from webapp.accounts.models import Team
from webapp.api.fields import ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from webapp.fleet.models import Host
from webapp.inventory.api.serializers import ContainerSerializer
from webapp.jobs import params
from webapp.permissions import RUN, VIEW
from webapp.registries.models import Registry


def _host(required: bool) -> ScopedSlugRelatedField:
    return ScopedSlugRelatedField(
        slug_field="name",
        queryset=Host.objects.all(),
        action=RUN,
        required=required,
        help_text="the host to run on" + ("" if required else " (default: the scheduler picks)"),
        error_messages={"does_not_exist": 'no host named "{value}"'},
    )


def _team() -> ScopedSlugRelatedField:
    return ScopedSlugRelatedField(
        slug_field="slug",
        queryset=Team.objects.all(),
        action=RUN,
        required=False,
        help_text="the team that will own it (default: your first team that may start jobs)",
        error_messages={"does_not_exist": 'no team "{value}" in which you may start jobs'},
    )


class ContainerRunIn(params.ContainerCreate):
    host = _host(required=False)
    team = _team()


class ImagePullIn(params.ImagePull):
    host = _host(required=True)
    team = _team()


class VolumeCreateIn(params.VolumeCreate):
    host = _host(required=True)
    team = _team()


class NetworkCreateIn(params.NetworkCreate):
    host = _host(required=True)
    team = _team()


class RenameIn(serializers.Serializer):
    name = params.GrammarField(
        lambda v: params.grammar.object_name(v, "container name"), max_length=128
    )


class ExecIn(serializers.Serializer):
    """A command run in the container, not interactive: its output is the job's output."""

    command = serializers.ListField(
        child=serializers.CharField(max_length=params.TEXT_MAX),
        min_length=1,
        max_length=params.LIST_MAX,
    )
    user = serializers.RegexField(
        r"^[A-Za-z0-9_.-]{1,64}(?::[A-Za-z0-9_.-]{1,64})?$", required=False
    )
    workdir = serializers.RegexField(r"^/[^\0]{0,1023}$", required=False)
    env = params.EnvField(required=False)


class CommitIn(serializers.Serializer):
    reference = params.GrammarField(
        params.grammar.image_reference,
        max_length=params.grammar.REFERENCE_MAX,
        required=False,
        help_text="repository[:tag] of the new image (default: none, as docker commit)",
    )


class TagIn(serializers.Serializer):
    target = params.GrammarField(
        params.grammar.image_reference,
        max_length=params.grammar.REFERENCE_MAX,
        help_text="the new name: [registry/]repository[:tag]",
    )


class PushIn(serializers.Serializer):
    tag = params.GrammarField(
        params.grammar.image_reference,
        max_length=params.grammar.REFERENCE_MAX,
        required=False,
        help_text="the name to push it as (default: its first tag); without a registry host "
        "it goes to the registry named by `registry`",
    )
    registry = ScopedPrimaryKeyRelatedField(
        queryset=Registry.objects.all(),
        action=VIEW,
        required=False,
        allow_null=True,
        help_text="the registry whose stored credentials to use (default: your team's, "
        "else the fleet-wide one, for the tag's registry host)",
    )


class PruneIn(serializers.Serializer):
    host = _host(required=True)


class PruneAllIn(PruneIn):
    all = serializers.BooleanField(
        default=False, help_text="images: every unused one, not only dangling ones"
    )


ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _read_tar_head(f: BinaryIO) -> None:
    """Read F's first tar header (through its compression); zstd passes on its magic alone."""
    if f.read(4) == ZSTD_MAGIC:
        return
    f.seek(0)
    with tarfile.open(fileobj=f, mode="r:*") as tar:
        tar.next()


class TarArchiveField(serializers.FileField):
    """An uploaded tar archive (plain, gzip, bzip2, xz or zstd): its first header is read here,
    so a file that is no archive is a field error, not a job that fails on the host."""

    def to_internal_value(self, data: object) -> object:
        upload = super().to_internal_value(data)
        try:
            if hasattr(upload, "temporary_file_path"):
                with open(upload.temporary_file_path(), "rb") as f:
                    _read_tar_head(f)
            else:
                _read_tar_head(upload)
                upload.seek(0)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise serializers.ValidationError(
                f"not a tar archive (gzip, bzip2, xz or plain): {exc}"
            ) from None
        return upload


class _Upload(serializers.Serializer):
    """Where, for whom, and the uploaded file (multipart/form-data)."""

    host = _host(required=True)
    team = _team()


class BuildIn(_Upload):
    """``POST /images/build/``: a context archive (tar, may be compressed), a Dockerfile's
    text, or both (the text wins over the context's Dockerfile)."""

    context = TarArchiveField(
        required=False, help_text="the build context as a tar archive (gzip, bzip2, xz or plain)"
    )
    dockerfile = serializers.CharField(
        max_length=params.DOCKERFILE_MAX,
        required=False,
        trim_whitespace=False,
        help_text="the Dockerfile's text (default: the context's Dockerfile)",
    )
    dockerfile_path = serializers.RegexField(
        r"^[^\0]{1,1024}$", default="Dockerfile", help_text="the Dockerfile's path in the context"
    )
    tag = serializers.ListField(
        child=params.GrammarField(
            params.grammar.image_reference, max_length=params.grammar.REFERENCE_MAX
        ),
        max_length=16,
        required=False,
        help_text="name the image (repeat the field for several tags)",
    )
    build_args = serializers.ListField(
        child=serializers.CharField(max_length=params.TEXT_MAX),
        max_length=params.LIST_MAX,
        required=False,
        help_text="KEY=VALUE, one per field (docker build --build-arg)",
    )
    target = params.GrammarField(
        lambda v: params.grammar.object_name(v, "target stage"), max_length=128, required=False
    )
    no_cache = serializers.BooleanField(default=False)

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("context") and not attrs.get("dockerfile"):
            raise serializers.ValidationError(
                {"dockerfile": "give a Dockerfile's text, a context archive, or both"}
            )
        return attrs

    def validate_build_args(self, value: list[str]) -> dict[str, str]:
        pairs = {}
        for item in value:
            key, eq, val = item.partition("=")
            try:
                params.grammar.env_key(key)
            except ValueError as exc:
                raise serializers.ValidationError(str(exc)) from None
            if not eq:
                raise serializers.ValidationError(f"{item!r}: KEY=VALUE expected")
            pairs[key] = val
        return pairs


class LoadIn(_Upload):
    """``POST /images/load/``: an archive as ``docker save`` writes it (or an OCI layout tar)."""

    archive = serializers.FileField(help_text="a docker-save or OCI tar (may be compressed)")


class ImportIn(_Upload):
    """``POST /images/import/``: a root filesystem tar made into a one-layer image."""

    archive = serializers.FileField(help_text="a root filesystem tar (may be compressed)")
    reference = params.GrammarField(
        params.grammar.image_reference, max_length=params.grammar.REFERENCE_MAX, required=False
    )
    message = serializers.CharField(max_length=params.TEXT_MAX, required=False, allow_blank=True)


class StopIn(serializers.Serializer):
    timeout = serializers.IntegerField(min_value=0, max_value=3600, required=False)


class KillIn(serializers.Serializer):
    signal = params.GrammarField(params.grammar.signal_name, max_length=16, default="KILL")


class ConnectIn(serializers.Serializer):
    container = serializers.IntegerField(help_text="the container's id on the site")
    aliases = serializers.ListField(
        child=params.GrammarField(lambda v: params.grammar.object_name(v, "alias")),
        max_length=params.LIST_MAX,
        required=False,
    )


class JobRef(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()


class Accepted(serializers.Serializer):
    """A state change was accepted: follow its job."""

    job = JobRef()


class ContainerAccepted(Accepted):
    """A container was asked for: its record now (``engine_id`` pending) and the job making it."""

    container = ContainerSerializer()
