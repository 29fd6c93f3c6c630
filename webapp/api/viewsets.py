"""The API's base viewset: every query goes through ``Model.objects.for_user(user, "view")``.

A viewset names its ``queryset`` and never defines ``get_queryset`` (a
subclass that tries is refused when its module is imported), so no endpoint
can forget the team restriction of ``webapp.permissions``. An object outside
it is a 404, like a missing one; what a user may do with an object they can
see (a viewer cancelling a job of their team: 403) is the services' check.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework import viewsets

from webapp.permissions import VIEW


class TeamScopedViewSet(viewsets.GenericViewSet):
    """A GenericViewSet whose queryset is always restricted to what the requester may see."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} defines get_queryset: set `queryset` and let "
                "TeamScopedViewSet restrict it (webapp.permissions)"
            )

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().for_user(self.request.user, VIEW)
