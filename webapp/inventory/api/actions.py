"""The inventory API's actions: each state change is a job on the object's host, answered
with 202 and the job to follow (``{"job": {"id", "url"}, ...}``).

Mixed into the viewsets of ``webapp.inventory.api.views``: ``get_object`` is
theirs, so an object outside the requester's teams is a 404 like a missing
one; whether the requester may act on one they can see is the jobs' check.
"""

from __future__ import annotations

from django.http import HttpRequest
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from webapp.api.params import query_bool
from webapp.api.schema import Error, errors
from webapp.errors import NotFound
from webapp.inventory import operations, uploads
from webapp.inventory.api.requests import (
    Accepted,
    BuildIn,
    CommitIn,
    ConnectIn,
    ContainerAccepted,
    ContainerRunIn,
    ExecIn,
    ImagePullIn,
    ImportIn,
    KillIn,
    LoadIn,
    NetworkCreateIn,
    PruneAllIn,
    PruneIn,
    PushIn,
    RenameIn,
    StopIn,
    TagIn,
    VolumeCreateIn,
)
from webapp.inventory.api.serializers import ContainerSerializer
from webapp.inventory.models import Container
from webapp.jobs.choices import JobKind
from webapp.jobs.models import Job
from webapp.permissions import VIEW


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


def _prune_schema(request: type = PruneIn):  # noqa: ANN202
    return extend_schema(
        request=request,
        responses={202: Accepted, **errors(400, 401, 403)},
        description="Remove the host's unused objects of this kind, every team's: "
        "fleet admins only (403 for others).",
    )


def _prune(request: Request, kind: str, serializer: type = PruneIn) -> Response:
    data = _checked(serializer, request)
    host = data.pop("host")
    return accepted(request, operations.prune(request.user, host, kind, data))


class ContainerActions:
    """Run, start, stop, restart, kill, pause, unpause, rename, exec in, commit, remove and
    prune containers by jobs."""

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

    @_accepted_schema(RenameIn)
    @action(detail=True, methods=["post"], filter_backends=[])
    def rename(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, JobKind.CONTAINER_RENAME, **_checked(RenameIn, request))

    @_accepted_schema(
        ExecIn,
        description="Run a command in the running container, not interactive: its stdout "
        "and stderr stream as the job's output; the job fails if the command exits non-zero "
        "(its result holds exit_code).",
    )
    @action(detail=True, methods=["post"], filter_backends=[], url_path="exec")
    def exec_(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, JobKind.CONTAINER_EXEC, **_checked(ExecIn, request))

    @_accepted_schema(
        CommitIn,
        description="Make an image of the container's filesystem and settings; it belongs "
        "to the container's team (the job's result names it).",
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def commit(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, JobKind.CONTAINER_COMMIT, **_checked(CommitIn, request))

    @_accepted_schema(
        parameters=[
            OpenApiParameter("force", bool, description="kill it first if it runs (1 or 0)")
        ]
    )
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        force = query_bool(request, "force")
        return self._act(request, JobKind.CONTAINER_REMOVE, force=force)

    @_prune_schema()
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def prune(self, request: Request) -> Response:
        return _prune(request, JobKind.CONTAINER_PRUNE)


def _upload_schema(request: type, description: str):  # noqa: ANN202
    return extend_schema(
        request={"multipart/form-data": request},
        responses={
            202: Accepted,
            **errors(400, 401, 404),
            413: OpenApiResponse(Error, "the upload is larger than WHARF_UPLOAD_MAX_BYTES"),
        },
        description=description,
    )


def _upload_action():  # noqa: ANN202
    return action(
        detail=False,
        methods=["post"],
        filter_backends=[],
        pagination_class=None,
        parser_classes=[MultiPartParser, FormParser],
    )


class ImageActions:
    #: the actions that take uploads: their files go to disk in chunks, at most the limit
    UPLOADS = ("build", "load", "import_")

    def initialize_request(self, request: HttpRequest, *args: object, **kwargs: object) -> Request:
        # before authentication: a session's CSRF check reads the body, and the handlers
        # must be in place before anything does
        drf_request = super().initialize_request(request, *args, **kwargs)
        if self.action in self.UPLOADS:
            request.upload_handlers = [uploads.LimitedUploadHandler(request)]
        return drf_request

    @_upload_schema(
        BuildIn,
        "Build an image on the host with its builder. The context (a tar) is kept on the "
        "site until the job ends and fetched by that host for that job only; the steps "
        "stream as the job's output; the image is the team's.",
    )
    @_upload_action()
    def build(self, request: Request) -> Response:
        return accepted(request, operations.build_image(request.user, _checked(BuildIn, request)))

    @_upload_schema(LoadIn, "Load the images of a docker-save (or OCI) archive on the host.")
    @_upload_action()
    def load(self, request: Request) -> Response:
        data = _checked(LoadIn, request)
        job = operations.start_with_upload(
            request.user, JobKind.IMAGE_LOAD, data["host"], data.get("team"), {}, data["archive"]
        )
        return accepted(request, job)

    @_upload_schema(ImportIn, "Make a one-layer image of a root filesystem tar on the host.")
    @action(
        detail=False,
        methods=["post"],
        filter_backends=[],
        pagination_class=None,
        parser_classes=[MultiPartParser, FormParser],
        url_path="import",
    )
    def import_(self, request: Request) -> Response:
        data = _checked(ImportIn, request)
        host, team, archive = data.pop("host"), data.pop("team", None), data.pop("archive")
        job = operations.start_with_upload(
            request.user, JobKind.IMAGE_IMPORT, host, team, data, archive
        )
        return accepted(request, job)

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

    @_accepted_schema(TagIn)
    @action(detail=True, methods=["post"], filter_backends=[])
    def tag(self, request: Request, pk: str | None = None) -> Response:
        obj = self.get_object()
        data = _checked(TagIn, request)
        job = operations.act(request.user, obj, JobKind.IMAGE_TAG, image=obj.engine_id, **data)
        return accepted(request, job)

    @_accepted_schema(
        PushIn,
        description="Push the image to a registry. The registry's stored credentials reach "
        "the host only with this job's claim; they are never in the job's parameters, "
        "output or answers.",
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def push(self, request: Request, pk: str | None = None) -> Response:
        obj = self.get_object()
        data = _checked(PushIn, request)
        job = operations.push_image(request.user, obj, data.get("tag", ""), data.get("registry"))
        return accepted(request, job)

    @_prune_schema(PruneAllIn)
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def prune(self, request: Request) -> Response:
        return _prune(request, JobKind.IMAGE_PRUNE, PruneAllIn)


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

    @_prune_schema(PruneAllIn)
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def prune(self, request: Request) -> Response:
        return _prune(request, JobKind.VOLUME_PRUNE, PruneAllIn)


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

    @_prune_schema()
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def prune(self, request: Request) -> Response:
        return _prune(request, JobKind.NETWORK_PRUNE)

    def _plug(self, request: Request, kind: str, **extra: object) -> Response:
        network = self.get_object()
        data = _checked(ConnectIn, request)
        # a container the requester sees: whether they may act is the job's check (403 for a
        # viewer), as for every other action
        container = (
            Container.objects.for_user(request.user, VIEW)
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
