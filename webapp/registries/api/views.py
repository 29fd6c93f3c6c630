"""The registries API: a team's registries and the fleet-wide ones, credentials write-only."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.schema import errors
from webapp.api.viewsets import TeamScopedViewSet
from webapp.registries import services
from webapp.registries.api.serializers import RegistrySerializer
from webapp.registries.models import Registry


@extend_schema_view(
    list=extend_schema(responses={200: RegistrySerializer(many=True), **errors(400, 401)}),
    retrieve=extend_schema(responses={200: RegistrySerializer, **errors(401, 404)}),
    create=extend_schema(responses={201: RegistrySerializer, **errors(400, 401, 403)}),
    partial_update=extend_schema(responses={200: RegistrySerializer, **errors(400, 401, 403, 404)}),
    destroy=extend_schema(responses={204: None, **errors(401, 403, 404)}),
)
class RegistryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TeamScopedViewSet):
    """Registries to push to and pull from: your teams' and the fleet-wide ones."""

    queryset = Registry.objects.select_related("team")
    serializer_class = RegistrySerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def _save(self, request: Request, registry: Registry | None, status: int) -> Response:
        s = self.get_serializer(registry, data=request.data, partial=registry is not None)
        s.is_valid(raise_exception=True)
        data = dict(s.validated_data)
        if "team" not in data:
            data["team"] = services.DEFAULT
        registry = services.save_registry(request.user, registry, **data)
        return Response(self.get_serializer(registry).data, status=status)

    def create(self, request: Request) -> Response:
        return self._save(request, None, 201)

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self._save(request, self.get_object(), 200)

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.remove_registry(request.user, self.get_object())
        return Response(status=204)
