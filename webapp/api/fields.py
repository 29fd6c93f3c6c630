"""Related fields whose choices are restricted like every query: by ``for_user(user, action)``.

A client names a related object by slug; one it may not use (another team's,
or a team where it may only watch) is the same field error as one that does
not exist, so a field's answer never tells another team's objects apart.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework import serializers


class _ScopedByAction:
    """Restricts a related field's queryset to what the requester may ACTION."""

    def __init__(self, *, action: str, **kwargs: Any) -> None:
        self.action = action
        super().__init__(**kwargs)

    def get_queryset(self) -> models.QuerySet:
        request = self.context.get("request")
        return super().get_queryset().for_user(getattr(request, "user", None), self.action)

    def to_internal_value(self, data: object) -> object:
        # PostgreSQL's text holds no NUL: a lookup with one would fail as a server error
        if isinstance(data, str) and "\x00" in data:
            raise serializers.ValidationError("Null characters are not allowed.")
        return super().to_internal_value(data)


class ScopedSlugRelatedField(_ScopedByAction, serializers.SlugRelatedField):
    """A SlugRelatedField that accepts only what the requester may ACTION (``webapp.permissions``)."""


class ScopedPrimaryKeyRelatedField(_ScopedByAction, serializers.PrimaryKeyRelatedField):
    """A PrimaryKeyRelatedField restricted the same way (another team's id: "does not exist")."""
