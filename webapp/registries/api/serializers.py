"""A registry as the API reads and writes it: credentials go in, never come out."""

from __future__ import annotations

from rest_framework import serializers

from webapp.accounts.models import Team
from webapp.api.fields import ScopedSlugRelatedField
from webapp.permissions import RUN
from webapp.registries.models import Registry


class RegistrySerializer(serializers.ModelSerializer):
    team = ScopedSlugRelatedField(
        slug_field="slug",
        queryset=Team.objects.all(),
        action=RUN,
        required=False,
        allow_null=True,
        help_text="the owning team's slug (default: your first team that may start jobs); "
        "null: fleet-wide, for every team (fleet admins only)",
        error_messages={"does_not_exist": 'no team "{value}" in which you may add registries'},
    )
    host = serializers.CharField(
        max_length=255, help_text="host[:port] as image references name it: registry.example.com"
    )
    username = serializers.CharField(
        max_length=255, write_only=True, required=False, allow_blank=True
    )
    password = serializers.CharField(
        max_length=4096,
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="write-only: kept sealed, never shown back",
    )
    fleet_wide = serializers.BooleanField(read_only=True)
    authenticated = serializers.BooleanField(
        read_only=True, help_text="whether credentials are stored (they are never shown)"
    )

    class Meta:
        model = Registry
        fields = [
            "id",
            "name",
            "host",
            "team",
            "fleet_wide",
            "username",
            "password",
            "authenticated",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "created", "updated"]
        # the view runs the uniqueness checks (a field error naming ``name``)
        validators: list = []
