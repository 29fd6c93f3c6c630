"""API tokens of people: stored hashed, shown once, optionally expiring.

A token reads ``wharf_<id>_<secret>``; the site keeps the id and a SHA-256
digest of the secret (256 random bits need no slow hash), so a database dump
gives no usable token, and the admin never shows one. ``manage.py tokens
create USER [--expires DAYS]`` makes one and prints it once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

PREFIX = "wharf_"
#: how stale a token's ``last_used`` may get: a busy script costs one write a minute, not one a call
LAST_USED_EVERY = timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=64, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"token {self.pk} of {self.user} ({self.name or 'unnamed'})"

    @property
    def expired(self) -> bool:
        return self.expires is not None and self.expires <= timezone.now()

    @classmethod
    def issue(cls, user: object, name: str = "", days: int | None = None) -> tuple[ApiToken, str]:
        """Make a token; return it and its text, which is never shown again."""
        secret = secrets.token_urlsafe(32)
        expires = timezone.now() + timedelta(days=days) if days else None
        from webapp.audit.services import record

        token = cls.objects.create(user=user, name=name, digest=_digest(secret), expires=expires)
        record(
            "apitoken.create",
            token,
            after={
                "user": user.get_username(),
                "name": name,
                "expires": expires.isoformat() if expires else None,
            },
        )
        return token, f"{PREFIX}{token.pk}_{secret}"

    @classmethod
    def user_for(cls, text: str) -> object | None:
        """The active user a token text belongs to, or None (unknown, expired, malformed)."""
        if not text.startswith(PREFIX) or len(text) > 200:
            return None
        pk, _, secret = text[len(PREFIX) :].partition("_")
        if not pk.isdigit() or not secret:
            return None
        token = cls.objects.select_related("user").filter(pk=int(pk)).first()
        if token is None or token.expired or not token.user.is_active:
            return None
        if not hmac.compare_digest(token.digest, _digest(secret)):
            return None
        now = timezone.now()
        if token.last_used is None or now - token.last_used >= LAST_USED_EVERY:
            cls.objects.filter(pk=token.pk).update(last_used=now)
        return token.user

    @classmethod
    def expiry_of(cls, text: str) -> datetime | None:
        """When the token of TEXT runs out (None: never, or no such token). Only for a
        text that ``user_for`` took: the secret is not checked again here."""
        pk = text[len(PREFIX) :].partition("_")[0]
        if not text.startswith(PREFIX) or not pk.isdigit():
            return None
        return cls.objects.filter(pk=int(pk)).values_list("expires", flat=True).first()


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token wharf_…`` for the REST API."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[object, None] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace")
        scheme, _, text = header.partition(" ")
        if scheme != self.keyword:
            return None
        user = ApiToken.user_for(text.strip())
        if user is None:
            raise exceptions.AuthenticationFailed("invalid or expired token")
        return user, None

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the schema describes the token header."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: object) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token wharf_…` (manage.py tokens create USER)",
        }
