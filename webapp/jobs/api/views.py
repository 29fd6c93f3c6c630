"""The job API: start a job, list and follow jobs, read stored output by sequence, cancel."""

from __future__ import annotations

from urllib.parse import urlencode

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.params import query_int
from webapp.api.schema import errors
from webapp.api.viewsets import TeamScopedViewSet
from webapp.errors import Forbidden
from webapp.jobs.api.filters import JobFilter
from webapp.jobs.api.serializers import JobLineSerializer, JobOutputPageSerializer, JobSerializer
from webapp.jobs.kinds import OPEN_KINDS
from webapp.jobs.models import Job
from webapp.jobs.services import check_cancel_job, check_create_job, do_cancel_job, do_create_job
from webapp.permissions import is_fleet_admin

#: lines per output page unless ?limit= says otherwise, and the most one page holds
OUTPUT_PAGE = 1000
OUTPUT_PAGE_MAX = 5000


@extend_schema_view(
    list=extend_schema(responses={200: JobSerializer(many=True), **errors(400, 401)}),
    retrieve=extend_schema(responses={200: JobSerializer, **errors(401, 404)}),
    create=extend_schema(
        responses={201: JobSerializer, **errors(400, 401, 403)},
        description="Start a job. 403: you are in no team that may start jobs.",
    ),
)
class JobViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TeamScopedViewSet
):
    """Jobs of the requester's teams: start one, list and filter them, read output, cancel."""

    queryset = Job.objects.select_related("host", "team", "requester")
    serializer_class = JobSerializer
    filter_backends = [JobFilter]

    def perform_create(self, serializer: JobSerializer) -> None:
        data = serializer.validated_data
        team, params = check_create_job(
            self.request.user, data["kind"], data["host"], data.get("team"), data.get("params")
        )
        if data["kind"] not in OPEN_KINDS and not is_fleet_admin(self.request.user):
            raise Forbidden(
                f"{data['kind']} acts on an object a team owns: use that object's action "
                "under /api/v1/ (containers, images, volumes, networks), which checks it is yours"
            )
        serializer.instance = do_create_job(
            self.request.user, data["kind"], data["host"], team, params
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, description="only lines with a larger seq (default 0)"),
            OpenApiParameter(
                "limit",
                int,
                description=f"lines per page, 1 to {OUTPUT_PAGE_MAX} (default {OUTPUT_PAGE})",
            ),
        ],
        responses={200: JobOutputPageSerializer, **errors(400, 401, 404)},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def output(self, request: Request, pk: str | None = None) -> Response:
        """The job's stored output lines after ``after``, in seq order, a page at a time."""
        job = self.get_object()
        after = query_int(request, "after", 0)
        limit = query_int(request, "limit", OUTPUT_PAGE, minimum=1, maximum=OUTPUT_PAGE_MAX)
        lines = list(job.lines.filter(seq__gt=after).order_by("seq")[: limit + 1])
        following = None
        if len(lines) > limit:
            lines = lines[:limit]
            query = urlencode({"after": lines[-1].seq, "limit": limit})
            following = request.build_absolute_uri(f"{request.path}?{query}")
        return Response({"next": following, "results": JobLineSerializer(lines, many=True).data})

    @extend_schema(
        request=None,
        responses={202: JobSerializer, **errors(401, 403, 404, 409)},
        description="202 with the job: cancelled if it was queued, still running "
        "with cancel_requested until its host stops it. 409: it has ended already.",
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a job that has not ended."""
        job = self.get_object()
        check_cancel_job(request.user, job)
        do_cancel_job(job)
        job.refresh_from_db()
        return Response(JobSerializer(job, context={"request": request}).data, status=202)
