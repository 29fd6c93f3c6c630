"""Registries a team pushes to (and pulls from) with credentials the site keeps sealed.

A registry belongs to one team, or to none: a *fleet-wide* registry, set up
by fleet admins and usable by every team. The credentials are stored only
as a token sealed with a key outside the database (``crypto``); the API and
the admin take them and never show them back.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from webapp.permissions import VIEW, team_ids


class RegistryQuerySet(models.QuerySet):
    """Who reaches which registry: to VIEW (and use), the team's and the fleet-wide ones; to
    change (any other action), the team's only: fleet-wide ones are the fleet admins'."""

    def for_user(self, user: object, action: str = VIEW) -> models.QuerySet:
        ids = team_ids(user, action)
        if ids is None:
            return self
        mine = Q(team_id__in=ids)
        return self.filter(mine | Q(team__isnull=True) if action == VIEW else mine)

    def usable_by(self, team: object) -> models.QuerySet:
        """The registries a job of TEAM may use: its own, then the fleet-wide ones."""
        return self.filter(Q(team=team) | Q(team__isnull=True)).order_by(
            models.F("team").asc(nulls_last=True), "name"
        )


class Registry(models.Model):
    team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="registries",
        help_text="the team that owns it; none: fleet-wide (every team may use it)",
    )
    name = models.CharField(max_length=100)
    host = models.CharField(
        max_length=255, help_text="the registry's host[:port], as image references name it"
    )
    credentials = models.TextField(
        blank=True, editable=False, help_text="username and password, sealed (never shown)"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = RegistryQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "registries"
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="registry_name_once_per_team"),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(team__isnull=True),
                name="registry_name_once_fleet_wide",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.host})"

    @property
    def fleet_wide(self) -> bool:
        return self.team_id is None

    @property
    def authenticated(self) -> bool:
        return bool(self.credentials)

    def set_credentials(self, username: str, password: str) -> None:
        """Seal USERNAME and PASSWORD into the row (both empty: anonymous access)."""
        from webapp.registries.crypto import seal

        self.credentials = seal(username, password) if (username or password) else ""

    def open_credentials(self) -> tuple[str, str] | None:
        """The credentials for the one place that needs them: a host's claim of a push job."""
        from webapp.registries.crypto import unseal

        return unseal(self.credentials) if self.credentials else None
