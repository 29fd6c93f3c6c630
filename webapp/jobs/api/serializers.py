"""What the job API reads and writes; related choices restricted to what the requester may use."""

from rest_framework import serializers

from webapp.accounts.models import Team
from webapp.api.fields import ScopedSlugRelatedField
from webapp.fleet.models import Host
from webapp.jobs.choices import JobKind
from webapp.jobs.models import Job, JobLine
from webapp.permissions import RUN


class JobSerializer(serializers.ModelSerializer):
    host = ScopedSlugRelatedField(
        slug_field="name",
        queryset=Host.objects.all(),
        action=RUN,
        error_messages={"does_not_exist": 'no host named "{value}"'},
    )
    team = ScopedSlugRelatedField(
        slug_field="slug",
        queryset=Team.objects.all(),
        action=RUN,
        required=False,
        help_text="the team the job runs for (default: your first team that may start jobs)",
        error_messages={"does_not_exist": 'no team "{value}" in which you may start jobs'},
    )
    kind = serializers.ChoiceField(choices=JobKind.choices)
    requester = serializers.CharField(source="requester.username", read_only=True, default=None)

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "host",
            "team",
            "requester",
            "params",
            "state",
            "created",
            "started",
            "finished",
            "result",
            "error",
            "error_kind",
            "attempts",
            "cancel_requested",
            "last_seq",
        ]
        read_only_fields = [
            "id",
            "requester",
            "state",
            "created",
            "started",
            "finished",
            "result",
            "error",
            "error_kind",
            "attempts",
            "cancel_requested",
            "last_seq",
        ]


class JobLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobLine
        fields = ["seq", "stream", "text", "created"]


class JobOutputPageSerializer(serializers.Serializer):
    """One page of stored output, by sequence number."""

    next = serializers.URLField(
        allow_null=True,
        help_text="the following page; null when no stored line follows this page "
        "(a running job may store more: ask again with after= the last seq you got)",
    )
    results = JobLineSerializer(many=True)
