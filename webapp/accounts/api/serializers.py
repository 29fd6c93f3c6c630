from rest_framework import serializers

from webapp.accounts.choices import Role
from webapp.accounts.models import Membership, Team


class MembershipSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["user", "role"]


class TeamSerializer(serializers.ModelSerializer):
    """A team, its members; its quota, use and hosts only for its admins and fleet admins."""

    members = MembershipSerializer(source="memberships", many=True, read_only=True)
    quota = serializers.SerializerMethodField()
    hosts = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = ["name", "slug", "members", "quota", "hosts"]

    def _manages(self, team: Team) -> bool:
        from webapp.permissions import MANAGE, permits

        return permits(self.context["request"].user, team, MANAGE)

    def get_quota(self, team: Team) -> dict | None:
        if not self._manages(team):
            return None
        from webapp.accounts.quotas import quota_use

        return quota_use(team)

    def get_hosts(self, team: Team) -> list[str] | None:
        if not self._manages(team):
            return None
        from webapp.fleet.models import Host

        return list(Host.objects.granted_to(team).values_list("name", flat=True))


class MemberIn(serializers.Serializer):
    user = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)


class RoleIn(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
