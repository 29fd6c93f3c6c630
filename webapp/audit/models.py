"""The audit log: who changed what, when, from where, and the object before and after.

An entry is written in the same transaction as the change it records
(``webapp.audit.services.record``), so there is no change without its entry
and no entry for a change that was rolled back. Entries are evidence: the
site never edits or deletes one (``save`` refuses an update, ``delete``
refuses), the admin shows them read-only, the API only lists them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from webapp.permissions import MANAGE, VIEW, TeamOwnedQuerySet


class AuditQuerySet(TeamOwnedQuerySet):
    """Fleet admins read every entry; a team's admins read its entries; nobody else any."""

    def for_user(self, user: object, action: str = VIEW) -> models.QuerySet:
        return super().for_user(user, MANAGE)


class AuditEntry(models.Model):
    time = models.DateTimeField(auto_now_add=True, db_index=True)
    # no database constraint and no cascade: an entry outlives its actor and its team unchanged
    # (their names are kept beside them), and a deletion's own entries never block it
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    #: the actor's name when it acted (kept if the user goes); "" for the site's own scripts
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True, help_text="such as job.create")
    object_type = models.CharField(max_length=64, blank=True, help_text="such as container")
    object_id = models.CharField(max_length=128, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    team_name = models.CharField(max_length=100, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True, help_text="the client's IP")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-time", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        who = self.actor_name or "the site"
        what = f" {self.object_type} {self.object_repr or self.object_id}".rstrip()
        return f"{who}: {self.action}{what}"

    def save(self, *args: object, **kwargs: object) -> None:
        """Write a new entry; an existing one is never changed."""
        if self.pk is not None:
            raise ValueError("audit entries are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValueError("audit entries are never deleted")
