from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.params import query_int
from webapp.jobs.api.serializers import JobLineSerializer, JobSerializer
from webapp.jobs.models import visible_jobs
from webapp.jobs.services import check_cancel_job, check_create_job, do_cancel_job, do_create_job


class JobViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Jobs of the requester's teams: create one, follow it, read its stored output."""

    serializer_class = JobSerializer

    def get_queryset(self):
        return visible_jobs(self.request.user).select_related("host", "team", "requester")

    def perform_create(self, serializer: JobSerializer) -> None:
        data = serializer.validated_data
        team, params = check_create_job(
            self.request.user, data["kind"], data["host"], data.get("team"), data.get("params")
        )
        serializer.instance = do_create_job(
            self.request.user, data["kind"], data["host"], team, params
        )

    @extend_schema(
        parameters=[OpenApiParameter("after", int, description="only lines with a larger seq")],
        responses=JobLineSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def output(self, request: Request, pk: str | None = None) -> Response:
        job = self.get_object()
        after = query_int(request, "after", 0)
        lines = job.lines.filter(seq__gt=after).order_by("seq")
        return Response(JobLineSerializer(lines, many=True).data)

    @extend_schema(request=None, responses={202: JobSerializer, 409: dict})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a job that has not ended: 202 with the job (cancelled, or running until it stops)."""
        job = self.get_object()
        check_cancel_job(request.user, job)
        do_cancel_job(job)
        job.refresh_from_db()
        return Response(JobSerializer(job).data, status=202)
