"""Teams own every resource; a user reaches a resource through a membership."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from webapp.accounts.choices import Role
from webapp.permissions import TeamQuerySet


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OPERATOR)

    class Meta:
        ordering = ["team__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="one_membership_per_team"),
            # a role outside the choices would grant nothing, silently: refuse it at the source
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.get_role_display().lower()})"


class Quota(models.Model):
    """What a team may hold at once; a blank limit is no limit. Checked when work is asked for
    (``webapp.accounts.quotas``), so a request over it is refused before anything is queued."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="quota")
    containers = models.PositiveIntegerField(null=True, blank=True)
    cpus = models.FloatField(null=True, blank=True, help_text="CPUs, summed over its containers")
    memory = models.BigIntegerField(
        null=True, blank=True, help_text="bytes, summed over its containers' memory limits"
    )
    storage = models.BigIntegerField(
        null=True, blank=True, help_text="bytes, summed over its volumes' sizes"
    )

    def __str__(self) -> str:
        return f"quota of {self.team}"


from webapp.accounts.tokens import ApiToken  # noqa: E402, F401 - the model lives with its auth
