"""A host is one machine running a Wharf worker; it enrols once, then reports and beats.

A host is trusted with its own jobs only: it holds a credential of its own
(stored here hashed, issued at enrolment, revocable), no database URL and no
site secret, and reaches the site through the host API
(``webapp.fleet.hostapi``).
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from webapp.fleet.choices import ADMIN_STATES, SCHEDULABLE_STATES, HostState
from webapp.fleet.names import validate_host_name
from webapp.jobs.publish import announce
from webapp.permissions import FleetQuerySet, host_team_ids


class Host(models.Model):
    name = models.CharField(max_length=200, unique=True, validators=[validate_host_name])
    state = models.CharField(max_length=16, choices=HostState.choices, default=HostState.ONLINE)
    facts = models.JSONField(default=dict, blank=True)
    last_heartbeat = models.DateTimeField(null=True, blank=True)
    registered = models.DateTimeField(auto_now_add=True)
    # sha256 of the host's credential secret (high entropy: no slow hash needed)
    credential_hash = models.CharField(max_length=64, blank=True, editable=False)
    credential_issued = models.DateTimeField(null=True, blank=True, editable=False)

    objects = FleetQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        """Refuse a bad name on every path that saves a host (beat, admin, shell), not only forms."""
        validate_host_name(self.name)
        super().save(*args, **kwargs)

    @property
    def queue(self) -> str:
        """The Celery queue this host's worker consumes."""
        return queue_for(self.name)

    @property
    def schedulable(self) -> bool:
        return self.state in SCHEDULABLE_STATES

    def announce(self) -> None:
        """Tell the hosts lists of the admins and of the teams granted this host that it changed."""
        data = {
            "id": self.pk,
            "name": self.name,
            "host": self.name,
            "state": self.state,
            "last_heartbeat": self.last_heartbeat.isoformat() if self.last_heartbeat else None,
        }
        announce("host", data, host_team_ids(self.pk))

    @classmethod
    def beat(cls, name: str, facts: dict | None = None) -> Host:
        """Record a heartbeat (and fresh facts); an unreachable host comes back online.

        An admin's drain or cordon survives heartbeats: only the admin lifts it.
        A name outside the grammar of ``webapp.fleet.names`` raises ``InvalidHostName``
        before anything is read or written.
        """
        validate_host_name(name)
        now = timezone.now()
        host, created = cls.objects.get_or_create(
            name=name, defaults={"facts": facts or {}, "last_heartbeat": now}
        )
        if not created:
            fields = {"last_heartbeat": now}
            if facts is not None:
                fields["facts"] = facts
            cls.objects.filter(pk=host.pk).update(**fields)
            cls.objects.filter(pk=host.pk, state=HostState.UNREACHABLE).update(
                state=HostState.ONLINE
            )
            host.refresh_from_db()
        host.announce()
        return host

    @classmethod
    def mark_unreachable(cls, now: timezone.datetime | None = None) -> list[str]:
        """Mark every host whose heartbeat is older than the limit unreachable; return their names.

        The look and the marking are one transaction that holds the hosts' rows (the
        write lock on SQLite, taken at its start), so a beat cannot land between
        them. A judgement that had to wait longer than a beat's interval for the
        database is void (``DatabaseKeptWaiting``): the hosts' beats were among the
        writes that waited, and a host must not be condemned for the site's silence.
        """
        began = time.monotonic()
        with transaction.atomic():
            now = now or timezone.now()
            limit = now - timedelta(seconds=settings.WHARF_UNREACHABLE_AFTER)
            stale = cls.objects.select_for_update().filter(
                models.Q(last_heartbeat__lt=limit) | models.Q(last_heartbeat__isnull=True)
            )
            stale = stale.exclude(state=HostState.UNREACHABLE).exclude(state__in=ADMIN_STATES)
            names = list(stale.values_list("name", flat=True))
            waited = time.monotonic() - began
            if waited > settings.WHARF_HEARTBEAT_SECONDS:
                raise DatabaseKeptWaiting(
                    f"hosts not judged: the database kept the judgement waiting {waited:.1f} s,"
                    " longer than a beat's interval"
                )
            cls.objects.filter(name__in=names).update(state=HostState.UNREACHABLE)
        for host in cls.objects.filter(name__in=names):
            host.announce()
        return names


class DatabaseKeptWaiting(Exception):
    """The database was held so long that the hosts' beats may not have been recorded."""


class HostGrant(models.Model):
    """Team TEAM may see and use HOST: its members run work there, the scheduler may pick it."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="host_grants")
    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="grants")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team__name", "host__name"]
        constraints = [models.UniqueConstraint(fields=["team", "host"], name="one_grant_per_host")]

    def __str__(self) -> str:
        return f"{self.host} for {self.team}"


class HostPool(models.Model):
    """A named set of hosts granted as a whole: a host added later is granted with it."""

    name = models.CharField(max_length=100, unique=True)
    hosts = models.ManyToManyField(Host, related_name="pools", blank=True)
    teams = models.ManyToManyField("accounts.Team", related_name="host_pools", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def queue_for(host_name: str) -> str:
    return f"host.{host_name}"


class EnrollmentToken(models.Model):
    """A one-time secret that lets one new host enrol (an admin action or ``manage.py hosts``)."""

    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    host_name = models.CharField(
        max_length=200, blank=True, help_text="only a host of this name may use it (blank: any)"
    )
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField()
    used = models.DateTimeField(null=True, blank=True, editable=False)
    used_by = models.ForeignKey(
        Host, on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        state = "used" if self.used else "expired" if self.expires < timezone.now() else "open"
        return f"enrolment token for {self.host_name or 'any host'} ({state})"


class HostEvent(models.Model):
    """Something a host did that an admin should see: enrolled, revoked, refused a message."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="events")
    time = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=32)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-time", "-id"]

    def __str__(self) -> str:
        return f"{self.host}: {self.kind}"
