"""The inventory lists' query: ``?host=``, ``?team=``, ``?state=``, ``?name=``, ``?label=``.

Checked like a request body: a bad value is a 400 naming the parameter.
``label`` is ``KEY`` (has the label) or ``KEY=VALUE``; ``name`` matches part
of the name (of any tag, for images).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.db.models.fields.json import KeyTransform
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

from webapp.inventory.choices import ContainerState
from webapp.inventory.models import Container, Image


class InventoryQuery(serializers.Serializer):
    host = serializers.CharField(max_length=200, required=False)
    team = serializers.SlugField(max_length=100, required=False)
    state = serializers.ChoiceField(choices=ContainerState.choices, required=False)
    name = serializers.CharField(max_length=255, required=False)
    label = serializers.CharField(max_length=4096, required=False)

    def validate_label(self, value: str) -> str:
        if not value.partition("=")[0]:
            raise serializers.ValidationError("a label filter is KEY or KEY=VALUE")
        return value


def filter_objects(objects: QuerySet, query: dict) -> QuerySet:
    """OBJECTS narrowed by a checked QUERY."""
    if "host" in query:
        objects = objects.filter(host__name=query["host"])
    if "team" in query:
        objects = objects.filter(team__slug=query["team"])
    if "state" in query:
        objects = objects.filter(state=query["state"])
    if "name" in query:
        field = "tags" if objects.model is Image else "name"
        objects = objects.filter(**{f"{field}__icontains": query["name"]})
    if "label" in query:
        key, has_value, value = query["label"].partition("=")
        objects = objects.filter(labels__has_key=key)
        if has_value:
            objects = objects.alias(_label=KeyTransform(key, "labels")).filter(_label=value)
    return objects


class InventoryFilter(BaseFilterBackend):
    def _fields(self, view: Any) -> list[str]:
        fields = ["host", "team", "name", "label"]
        return [*fields, "state"] if view.queryset.model is Container else fields

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        if getattr(view, "action", None) != "list":
            return queryset
        params = request.query_params
        query = InventoryQuery(
            data={name: params.get(name) for name in self._fields(view) if params.get(name)}
        )
        if not query.is_valid():
            raise ValidationError(query.errors)
        return filter_objects(queryset, query.validated_data)

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        described = {
            "host": ("only objects of the host of this name", {"type": "string"}),
            "team": ("only objects of the team of this slug", {"type": "string"}),
            "state": (
                "only containers in this state",
                {"type": "string", "enum": ContainerState.values},
            ),
            "name": ("objects whose name (an image: a tag) contains this text", {"type": "string"}),
            "label": ("objects with this label: KEY or KEY=VALUE", {"type": "string"}),
        }
        return [
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": described[name][0],
                "schema": described[name][1],
            }
            for name in self._fields(view)
        ]
