"""The audit list's query: ``?actor= ?action= ?team= ?object= ?since= ?until=``.

Checked like a request body (a bad time is a 400 naming the parameter); the
page ``/audit/`` reads the same query, so both list the same entries.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

from webapp.api.params import read_query_with


class AuditQuery(serializers.Serializer):
    actor = serializers.CharField(max_length=150, required=False, help_text="a username")
    action = serializers.CharField(
        max_length=64, required=False, help_text="job.create, or every action on jobs: job"
    )
    team = serializers.CharField(max_length=100, required=False, help_text="a team's slug")
    object = serializers.CharField(
        max_length=200, required=False, help_text="a type (container) or a type and id (job:12)"
    )
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


def read_query(params: Any) -> dict:
    """Check a query dict; return its values, or raise ValidationError (a 400) naming the bad ones."""
    return read_query_with(AuditQuery, params)


def filter_entries(entries: QuerySet, query: dict) -> QuerySet:
    """ENTRIES narrowed by a checked QUERY (``read_query``)."""
    if "actor" in query:
        entries = entries.filter(actor_name=query["actor"])
    if "action" in query:
        action = query["action"]
        entries = (
            entries.filter(action=action)
            if "." in action
            else entries.filter(action__startswith=f"{action}.")
        )
    if "team" in query:
        entries = entries.filter(team__slug=query["team"])
    if "object" in query:
        kind, _, pk = query["object"].partition(":")
        entries = entries.filter(object_type=kind)
        if pk:
            entries = entries.filter(object_id=pk)
    if "since" in query:
        entries = entries.filter(time__gte=query["since"])
    if "until" in query:
        entries = entries.filter(time__lt=query["until"])
    return entries


class AuditFilter(BaseFilterBackend):
    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        if getattr(view, "action", None) != "list":
            return queryset
        return filter_entries(queryset, read_query(request.query_params))

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        return [
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": str(field.help_text or name),
                "schema": {"type": "string", "format": "date-time"}
                if isinstance(field, serializers.DateTimeField)
                else {"type": "string"},
            }
            for name, field in AuditQuery().fields.items()
        ]
