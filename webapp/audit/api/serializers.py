from rest_framework import serializers

from webapp.audit.models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", help_text='"" for the site\'s own scripts')
    team = serializers.CharField(source="team_name")
    object = serializers.CharField(source="object_repr")

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "time",
            "actor",
            "action",
            "object_type",
            "object_id",
            "object",
            "team",
            "address",
            "before",
            "after",
        ]
        read_only_fields = fields
