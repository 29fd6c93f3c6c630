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

    def _facts(self, team: Team) -> dict[int, dict]:
        """Quota use and hosts of the teams being listed that the requester manages, read once
        for the whole page (a team they do not manage is absent: its fields are null)."""
        if "team_facts" not in self.context:
            from webapp.accounts.quotas import quota_uses
            from webapp.fleet.models import Host
            from webapp.permissions import MANAGE

            listed = getattr(self.parent, "instance", None) or [team]
            ids = [t.pk for t in listed]
            user = self.context["request"].user
            managed = list(
                Team.objects.for_user(user, MANAGE).filter(pk__in=ids).values_list("pk", flat=True)
            )
            uses, hosts = quota_uses(managed), Host.objects.names_by_team(managed)
            self.context["team_facts"] = {
                pk: {"quota": uses[pk], "hosts": hosts[pk]} for pk in managed
            }
        return self.context["team_facts"]

    def get_quota(self, team: Team) -> dict | None:
        facts = self._facts(team).get(team.pk)
        return facts["quota"] if facts else None

    def get_hosts(self, team: Team) -> list[str] | None:
        facts = self._facts(team).get(team.pk)
        return facts["hosts"] if facts else None


class MemberIn(serializers.Serializer):
    user = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)


class RoleIn(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
