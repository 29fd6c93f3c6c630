"""The audit log, read-only: fleet admins read all of it, a team's admins their team's part."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.request import Request

from webapp.api.schema import errors
from webapp.api.viewsets import TeamScopedViewSet
from webapp.audit.api.filters import AuditFilter
from webapp.audit.api.serializers import AuditEntrySerializer
from webapp.audit.models import AuditEntry
from webapp.audit.services import check_may_read


@extend_schema_view(
    list=extend_schema(responses={200: AuditEntrySerializer(many=True), **errors(400, 401, 403)}),
    retrieve=extend_schema(responses={200: AuditEntrySerializer, **errors(401, 403, 404)}),
)
class AuditEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TeamScopedViewSet):
    """Who changed what, when, from where; 403 for whoever is neither a fleet nor a team admin."""

    queryset = AuditEntry.objects.select_related(None)
    serializer_class = AuditEntrySerializer
    filter_backends = [AuditFilter]

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        check_may_read(request.user)
