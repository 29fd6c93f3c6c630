"""The inventory API's actions: each state change is a job on the object's host, answered
with 202 and the job to follow (``{"job": {"id", "url"}, ...}``).

Mixed into the viewsets of ``webapp.inventory.api.views``: ``get_object`` is
theirs, so an object outside the requester's teams is a 404 like a missing
one; whether the requester may act on one they can see is the jobs' check.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from webapp.api.params import query_bool
from webapp.api.schema import errors
from webapp.errors import NotFound
from webapp.inventory import operations
from webapp.inventory.api.requests import (
    Accepted,
    ConnectIn,
    ContainerAccepted,
    ContainerRunIn,
    ImagePullIn,
    KillIn,
    NetworkCreateIn,
    StopIn,
    VolumeCreateIn,
)
from webapp.inventory.api.serializers import ContainerSerializer
from webapp.inventory.models import Container
from webapp.jobs.choices import JobKind
from webapp.jobs.models import Job
from webapp.permissions import RUN


def accepted(request: Request, job: Job, **extra: object) -> Response:
    url = request.build_absolute_uri(reverse("job-detail", args=[job.pk]))
    return Response({"job": {"id": job.pk, "url": url}, **extra}, status=202)


def _checked(serializer_class: type, request: Request) -> dict:
    s = serializer_class(data=request.data, context={"request": request})
    s.is_valid(raise_exception=True)
    return dict(s.validated_data)


def _accepted_schema(request: type | None = None, body: type = Accepted, **more: object):  # noqa: ANN202
    return extend_schema(
        request=request, responses={202: body, **errors(400, 401, 404, 409)}, **more
    )


class ContainerActions:
    """Run, start, stop, restart, kill, pause, unpause and remove containers by jobs."""

    @_accepted_schema(ContainerRunIn, ContainerAccepted)
    def create(self, request: Request) -> Response:
        data = _checked(ContainerRunIn, request)
        host, team = data.pop("host", None), data.pop("team", None)
        container, job = operations.run_container(request.user, host, team, data)
        return accepted(request, job, container=ContainerSerializer(container).data)

    def _act(self, request: Request, kind: str, **params: object) -> Response:
        obj = self.get_object()
        job = operations.act(request.user, obj, kind, container=obj.engine_id, **params)
        return accepted(request, job)

    @_accepted_schema()
    @action(detail=True, methods=["post"], filter_backends=[])
    def start(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, JobKind.CONTAINER_START)

    @_accepted_schema(StopIn)
    @action(detail=True, methods=["post"], filter_backends=[])
    def stop(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, JobKind.CONTAINER_STOP, **_checked(StopIn, request))

    @_accepted_schema(StopIn)
    @action(detail=True, methods=["post"], filter_backends=[])
    def restart(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, JobKind.CONTAINER_RESTART, **_checked(StopIn, request))

    @_accepted_schema(KillIn)
    @action(detail=True, methods=["post"], filter_backends=[])
    def kill(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, JobKind.CONTAINER_KILL, **_checked(KillIn, request))

    @_accepted_schema()
    @action(detail=True, methods=["post"], filter_backends=[])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, JobKind.CONTAINER_PAUSE)

    @_accepted_schema()
    @action(detail=True, methods=["post"], filter_backends=[])
    def unpause(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, JobKind.CONTAINER_UNPAUSE)

    @_accepted_schema(
        parameters=[
            OpenApiParameter("force", bool, description="kill it first if it runs (1 or 0)")
        ]
    )
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        force = query_bool(request, "force")
        return self._act(request, JobKind.CONTAINER_REMOVE, force=force)


class ImageActions:
    @_accepted_schema(ImagePullIn)
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def pull(self, request: Request) -> Response:
        data = _checked(ImagePullIn, request)
        host, team = data.pop("host"), data.pop("team", None)
        return accepted(
            request, operations.start_job(request.user, JobKind.IMAGE_PULL, host, team, data)
        )

    @_accepted_schema()
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        obj = self.get_object()
        force = query_bool(request, "force")
        job = operations.act(
            request.user, obj, JobKind.IMAGE_REMOVE, image=obj.engine_id, force=force
        )
        return accepted(request, job)


class VolumeActions:
    @_accepted_schema(VolumeCreateIn)
    def create(self, request: Request) -> Response:
        data = _checked(VolumeCreateIn, request)
        host, team = data.pop("host"), data.pop("team", None)
        return accepted(
            request, operations.start_job(request.user, JobKind.VOLUME_CREATE, host, team, data)
        )

    @_accepted_schema()
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        obj = self.get_object()
        return accepted(
            request, operations.act(request.user, obj, JobKind.VOLUME_REMOVE, name=obj.name)
        )


class NetworkActions:
    @_accepted_schema(NetworkCreateIn)
    def create(self, request: Request) -> Response:
        data = _checked(NetworkCreateIn, request)
        host, team = data.pop("host"), data.pop("team", None)
        return accepted(
            request, operations.start_job(request.user, JobKind.NETWORK_CREATE, host, team, data)
        )

    @_accepted_schema()
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        obj = self.get_object()
        return accepted(
            request, operations.act(request.user, obj, JobKind.NETWORK_REMOVE, network=obj.name)
        )

    def _plug(self, request: Request, kind: str, **extra: object) -> Response:
        network = self.get_object()
        data = _checked(ConnectIn, request)
        container = (
            Container.objects.for_user(request.user, RUN)
            .filter(pk=data["container"], host=network.host)
            .first()
        )
        if container is None:
            raise NotFound(
                f"no container {data['container']} on {network.host.name}", field="container"
            )
        params = {"network": network.name, "container": container.engine_id, **extra}
        if kind == JobKind.NETWORK_CONNECT and data.get("aliases"):
            params["aliases"] = data["aliases"]
        return accepted(request, operations.act(request.user, network, kind, **params))

    @_accepted_schema(ConnectIn)
    @action(detail=True, methods=["post"], filter_backends=[])
    def connect(self, request: Request, pk: str | None = None) -> Response:
        return self._plug(request, JobKind.NETWORK_CONNECT)

    @_accepted_schema(ConnectIn)
    @action(detail=True, methods=["post"], filter_backends=[])
    def disconnect(self, request: Request, pk: str | None = None) -> Response:
        return self._plug(request, JobKind.NETWORK_DISCONNECT)
