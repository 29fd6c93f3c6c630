"""Host credentials: one-time enrolment tokens, per-host secrets stored hashed, revocation.

Secrets carry 256 random bits, so a plain SHA-256 digest is enough to store
them (a slow password hash protects guessable secrets, not these); they are
compared in constant time. A host's credential reads ``<host id>.<secret>``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from webapp.audit.services import record
from webapp.errors import Conflict, Invalid, NotFound
from webapp.fleet.models import EnrollmentToken, Host, HostEvent
from webapp.fleet.names import InvalidHostName, validate_host_name


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_enrollment_token(
    host_name: str = "", ttl: timedelta = timedelta(hours=1), user: object = None
) -> str:
    """Make a token one new host can enrol with until it expires; return it (shown once)."""
    if host_name:
        validate_host_name(host_name)
    token = "wharf-enrol-" + secrets.token_urlsafe(32)
    row = EnrollmentToken.objects.create(
        token_hash=digest(token),
        host_name=host_name,
        expires=timezone.now() + ttl,
        created_by=user if getattr(user, "pk", None) else None,
    )
    record(
        "enrollmenttoken.create",
        row,
        actor=user,
        after={"host_name": host_name, "expires": row.expires.isoformat()},
    )
    return token


def enroll(token: str, name: str, facts: dict) -> tuple[Host, str]:
    """Spend an enrolment token on host ``name``; return the host and its new credential.

    A name that is enrolled already takes a token issued for that very name
    (so an open token cannot take over another host's queue); enrolling again
    replaces the old credential.
    """
    try:
        validate_host_name(name)
    except InvalidHostName as exc:
        raise Invalid(str(exc), field="name") from None
    with transaction.atomic():
        row = (
            EnrollmentToken.objects.select_for_update()
            .filter(token_hash=digest(token), used__isnull=True, expires__gt=timezone.now())
            .first()
        )
        if row is None:
            raise Invalid("the enrolment token is unknown, used or expired", field="token")
        if row.host_name and row.host_name != name:
            raise Invalid(f"this enrolment token is for host {row.host_name!r}", field="name")
        host = Host.objects.filter(name=name).first()
        if host is not None and host.credential_hash and row.host_name != name:
            raise Conflict(
                f"host {name} is enrolled already; an admin must issue a token naming it"
            )
        if host is None:
            host = Host.beat(name, facts)
        secret = secrets.token_urlsafe(32)
        Host.objects.filter(pk=host.pk).update(
            credential_hash=digest(secret), credential_issued=timezone.now()
        )
        row.used, row.used_by = timezone.now(), host
        row.save(update_fields=["used", "used_by"])
        HostEvent.objects.create(host=host, kind="enrolled")
    return host, f"{host.pk}.{secret}"


def authenticate(credential: str) -> Host | None:
    """Return the host a credential belongs to, or None (unknown, revoked, malformed)."""
    pk, _, secret = credential.partition(".")
    if not pk.isdigit() or not secret or len(credential) > 200:
        return None
    host = Host.objects.filter(pk=int(pk)).exclude(credential_hash="").first()
    if host is None or not hmac.compare_digest(host.credential_hash, digest(secret)):
        return None
    return host


def revoke(host: Host, user: object = None) -> None:
    """Take a host's credential and broker access away; its worker can do nothing more."""
    from webapp.fleet import broker

    if not Host.objects.filter(pk=host.pk).exclude(credential_hash="").exists():
        raise NotFound(f"host {host.name} holds no credential")
    Host.objects.filter(pk=host.pk).update(credential_hash="", credential_issued=None)
    broker.revoke_host(host.name)
    HostEvent.objects.create(host=host, kind="revoked", detail=f"by {user}" if user else "")
    record(
        "host.revoke", host, actor=user, before={"credential": True}, after={"credential": False}
    )
