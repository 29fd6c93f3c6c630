"""The host API: what a host's worker may tell the site, about itself and its own jobs only.

A host enrols once with a one-time token, then authenticates with its own
credential. Every call names a job of that host or nothing: another host's
job is "not found", never touched.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.api.schema import errors
from webapp.fleet import broker, credentials
from webapp.fleet.hostapi.auth import HostCredentialAuthentication, IsHost
from webapp.fleet.models import Host, HostEvent, queue_for
from webapp.jobs import services
from webapp.jobs.choices import JobKind
from webapp.jobs.signing import public_key_pem
from webapp.registries.services import credentials_for_job

MAX_TEXT = 64 * 1024


class EnrollIn(serializers.Serializer):
    token = serializers.CharField(max_length=200)
    name = serializers.CharField(max_length=63)
    facts = serializers.DictField(required=False, default=dict)


class HeartbeatIn(serializers.Serializer):
    facts = serializers.DictField(required=False, allow_null=True, default=None)
    running = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=1000, default=list
    )


class ClaimIn(serializers.Serializer):
    message = serializers.CharField(max_length=64)
    redelivered = serializers.BooleanField(default=False)


class LineIn(serializers.Serializer):
    seq = serializers.IntegerField(min_value=1)
    stream = serializers.ChoiceField(choices=["stdout", "stderr"])
    text = serializers.CharField(max_length=MAX_TEXT, allow_blank=True, trim_whitespace=False)


class LinesIn(serializers.Serializer):
    lines = serializers.ListField(child=LineIn(), max_length=5000)


class FinishIn(serializers.Serializer):
    state = serializers.CharField(max_length=16)
    result = serializers.DictField(required=False, default=dict)
    error = serializers.CharField(max_length=MAX_TEXT, allow_blank=True, default="")
    error_kind = serializers.CharField(max_length=32, allow_blank=True, default="")


class RejectedIn(serializers.Serializer):
    reason = serializers.CharField(max_length=500)
    message = serializers.CharField(max_length=2000, allow_blank=True, default="")


EnrollOut = inline_serializer(
    "HostEnrolment",
    {
        "host_name": serializers.CharField(),
        "credential": serializers.CharField(),
        "broker_url": serializers.CharField(),
        "key_prefix": serializers.CharField(),
        "queue": serializers.CharField(),
        "public_key": serializers.CharField(),
        "heartbeat_seconds": serializers.IntegerField(),
    },
)
HeartbeatOut = inline_serializer(
    "HostHeartbeatAnswer", {"cancel": serializers.ListField(child=serializers.IntegerField())}
)
ClaimOut = inline_serializer(
    "HostJobClaim",
    {
        "job": serializers.IntegerField(),
        "kind": serializers.CharField(),
        "params": serializers.DictField(),
        "last_seq": serializers.IntegerField(),
        "credentials": inline_serializer(
            "HostJobCredentials",
            {"username": serializers.CharField(), "password": serializers.CharField()},
            required=False,
            help_text="a push job's registry credentials: only in the answer to its claim",
        ),
        "attempt": serializers.IntegerField(help_text="1 for the job's first run"),
    },
)
LinesOut = inline_serializer("HostLinesAnswer", {"cancel": serializers.BooleanField()})
FinishOut = inline_serializer(
    "HostJobEnd", {"job": serializers.IntegerField(), "state": serializers.CharField()}
)
#: a job's host calls: bad input, not a host, not this host's job, not in a state for it
JOB_CALL_ERRORS = errors(400, 401, 404, 409)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    s = serializer_class(data=request.data)
    s.is_valid(raise_exception=True)
    return s.validated_data


class HostView(APIView):
    authentication_classes = [HostCredentialAuthentication]
    permission_classes = [IsHost]
    throttle_classes: list = []


def enrolment(token: str, name: str, facts: dict) -> dict:
    """Enrol a host; return what its worker keeps (its host config, less the site's URL).

    One transaction: if the broker cannot make the host's user, the token is
    not spent and nothing is recorded.
    """
    with transaction.atomic():
        host, credential = credentials.enroll(token, name, facts)
        password = broker.grant_host(host.name)
    return {
        "host_name": host.name,
        "credential": credential,
        "broker_url": broker.host_broker_url(host.name, password),
        "key_prefix": broker.key_prefix(host.name),
        "queue": queue_for(host.name),
        "public_key": public_key_pem(),
        "heartbeat_seconds": settings.WHARF_HEARTBEAT_SECONDS,
    }


class Enroll(APIView):
    """Spend a one-time enrolment token; answer the host's credential and broker access."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=EnrollIn, responses={201: EnrollOut, **errors(400, 409)})
    def post(self, request: Request) -> Response:
        data = _valid(EnrollIn, request)
        return Response(enrolment(data["token"], data["name"], data["facts"]), status=201)


class Heartbeat(HostView):
    @extend_schema(request=HeartbeatIn, responses={200: HeartbeatOut, **errors(400, 401)})
    def post(self, request: Request) -> Response:
        data = _valid(HeartbeatIn, request)
        host: Host = request.auth
        Host.beat(host.name, data["facts"])
        cancel = services.settle_heartbeat(host, data["running"], timezone.now())
        return Response({"cancel": cancel})


class Claim(HostView):
    @extend_schema(request=ClaimIn, responses={200: ClaimOut, **JOB_CALL_ERRORS})
    def post(self, request: Request, job_id: int) -> Response:
        data = _valid(ClaimIn, request)
        job = services.claim_job(request.auth, job_id, data["message"], data["redelivered"])
        answer = {
            "job": job.pk,
            "kind": job.kind,
            "params": job.params,
            "last_seq": job.last_seq,
            "attempt": job.attempts,
        }
        # a push job's registry credentials: opened here, for the host that has just claimed
        # its own job, and stored nowhere on the way (not in the job, its output or a log)
        secret = credentials_for_job(job) if job.kind == JobKind.IMAGE_PUSH else None
        if secret:
            answer["credentials"] = secret
        return Response(answer)


class Upload(HostView):
    """What a job's request uploaded (a build context, an archive), for the host running it."""

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **errors(401, 404, 409)}
    )
    def get(self, request: Request, job_id: int) -> FileResponse:
        path = services.upload_for(request.auth, job_id)
        return FileResponse(path.open("rb"), content_type="application/octet-stream")


class Lines(HostView):
    @extend_schema(request=LinesIn, responses={200: LinesOut, **JOB_CALL_ERRORS})
    def post(self, request: Request, job_id: int) -> Response:
        data = _valid(LinesIn, request)
        cancel = services.store_lines(request.auth, job_id, data["lines"])
        return Response({"cancel": cancel})


class Finish(HostView):
    @extend_schema(request=FinishIn, responses={200: FinishOut, **JOB_CALL_ERRORS})
    def post(self, request: Request, job_id: int) -> Response:
        data = _valid(FinishIn, request)
        job = services.finish_job(
            request.auth, job_id, data["state"], data["result"], data["error"], data["error_kind"]
        )
        return Response({"job": job.pk, "state": job.state})


class Rejected(HostView):
    """A host refused a job message (bad signature, another host's): recorded for admins."""

    @extend_schema(request=RejectedIn, responses={201: dict, **errors(400, 401)})
    def post(self, request: Request) -> Response:
        data = _valid(RejectedIn, request)
        HostEvent.objects.create(
            host=request.auth,
            kind="message_refused",
            detail=f"{data['reason']}: {data['message']}",
        )
        return Response({}, status=201)
