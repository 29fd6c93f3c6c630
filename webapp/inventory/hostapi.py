"""The host API's inventory calls: a host reports its own objects, and only its own.

Every call acts on the authenticated host (``request.auth``); nothing in a
body names a host, so a host cannot touch another host's inventory.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.schema import errors
from webapp.fleet.hostapi.views import HostView, _valid
from webapp.inventory import services
from webapp.inventory.reports import ChangesIn, SnapshotIn

CursorOut = inline_serializer(
    "InventoryCursor",
    {
        "cursor": serializers.IntegerField(help_text="the last event the site has applied"),
        "resync": serializers.BooleanField(help_text="send a snapshot: the site lost track"),
    },
)


class Cursor(HostView):
    """Where the host's event stream resumes, and whether a snapshot is needed first."""

    @extend_schema(request=None, responses={200: CursorOut, **errors(401)})
    def post(self, request: Request) -> Response:
        return Response(services.cursor_of(request.auth))


class Changes(HostView):
    """The objects one batch of events touched, as they are now or gone."""

    @extend_schema(request=ChangesIn, responses={200: CursorOut, **errors(400, 401, 409)})
    def post(self, request: Request) -> Response:
        data = _valid(ChangesIn, request)
        answer = services.apply_changes(
            request.auth, data["after"], data["cursor"], data["changes"]
        )
        return Response(answer)


class Snapshot(HostView):
    """Everything the host has: the site's inventory of the host is made to match it."""

    @extend_schema(request=SnapshotIn, responses={200: CursorOut, **errors(400, 401)})
    def post(self, request: Request) -> Response:
        data = _valid(SnapshotIn, request)
        return Response(services.apply_snapshot(request.auth, data.pop("cursor"), data))


urlpatterns = [
    path("cursor/", Cursor.as_view(), name="host-inventory-cursor"),
    path("changes/", Changes.as_view(), name="host-inventory-changes"),
    path("snapshot/", Snapshot.as_view(), name="host-inventory-snapshot"),
]
