from rest_framework import serializers

from webapp.fleet.models import Host


class HostSerializer(serializers.ModelSerializer):
    class Meta:
        model = Host
        fields = ["id", "name", "state", "facts", "last_heartbeat", "registered"]
        read_only_fields = fields
