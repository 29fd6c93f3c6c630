"""What the inventory API's actions read: the job parameters, plus where and for whom.

The parameters are the job kinds' own serializers (``webapp.jobs.params``),
so a request is checked exactly as the job would be, field by field.
"""

from __future__ import annotations

from rest_framework import serializers

from webapp.accounts.models import Team
from webapp.api.fields import ScopedSlugRelatedField
from webapp.fleet.models import Host
from webapp.inventory.api.serializers import ContainerSerializer
from webapp.jobs import params
from webapp.permissions import RUN


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
