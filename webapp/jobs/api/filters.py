"""The job list's query: ``?state=``, ``?kind=``, ``?host=``, ``?search=``, ``?ordering=``.

Values are checked like a request body: an unknown state, kind or ordering is
a 400 naming the parameter, never ignored. The pages' job table reads the same
query (``filter_jobs``), so the dashboard and the API list the same jobs.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from rest_framework import serializers
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

from webapp.api.params import read_query_with
from webapp.jobs.choices import JobKind, JobState

ORDER_FIELDS = ["created", "started", "finished", "id", "state", "kind"]
ORDERINGS = [prefix + name for name in ORDER_FIELDS for prefix in ("", "-")]


class JobQuery(serializers.Serializer):
    state = serializers.ChoiceField(choices=JobState.choices, required=False)
    kind = serializers.ChoiceField(choices=JobKind.choices, required=False)
    host = serializers.CharField(max_length=200, required=False)
    search = serializers.CharField(max_length=200, required=False, trim_whitespace=True)
    ordering = serializers.ChoiceField(choices=ORDERINGS, required=False, default="-created")


def read_query(params: Any) -> dict:
    """Check a query dict; return its values, or raise ValidationError (a 400) naming the bad ones."""
    return read_query_with(JobQuery, params)


def filter_jobs(jobs: QuerySet, query: dict) -> QuerySet:
    """JOBS narrowed and ordered by a checked QUERY (``read_query``)."""
    if "state" in query:
        jobs = jobs.filter(state=query["state"])
    if "kind" in query:
        jobs = jobs.filter(kind=query["kind"])
    if "host" in query:
        jobs = jobs.filter(host__name=query["host"])
    if query.get("search"):
        text = query["search"]
        match = (
            Q(kind__icontains=text)
            | Q(host__name__icontains=text)
            | Q(team__slug__icontains=text)
            | Q(requester__username__icontains=text)
            | Q(error__icontains=text)
        )
        if text.isdigit() and len(text) < 10:
            match |= Q(pk=int(text))
        jobs = jobs.filter(match)
    ordering = query.get("ordering", "-created")
    tie = "-id" if ordering.startswith("-") else "id"
    return jobs.order_by(ordering, tie) if ordering.lstrip("-") != "id" else jobs.order_by(ordering)


class JobFilter(BaseFilterBackend):
    """The list's query as a DRF filter backend (detail views are never filtered)."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        if getattr(view, "action", None) != "list":
            return queryset
        return filter_jobs(queryset, read_query(request.query_params))

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        def param(name: str, description: str, schema: dict) -> dict:
            return {
                "name": name,
                "in": "query",
                "required": False,
                "description": description,
                "schema": schema,
            }

        return [
            param("state", "only jobs in this state", {"type": "string", "enum": JobState.values}),
            param("kind", "only jobs of this kind", {"type": "string", "enum": JobKind.values}),
            param("host", "only jobs of the host of this name", {"type": "string"}),
            param(
                "search",
                "jobs whose id, kind, host, team, requester or error contains this text",
                {"type": "string", "maxLength": 200},
            ),
            param(
                "ordering",
                "sort by this field, descending with a leading '-' (default -created)",
                {"type": "string", "enum": ORDERINGS},
            ),
        ]
