from rest_framework import serializers

from webapp.accounts.models import Team
from webapp.fleet.models import Host
from webapp.jobs.choices import JobKind
from webapp.jobs.models import Job, JobLine


class JobSerializer(serializers.ModelSerializer):
    host = serializers.SlugRelatedField(slug_field="name", queryset=Host.objects.all())
    team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False
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
