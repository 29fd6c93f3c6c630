"""Check, then do: validate a job request, record it, queue it; and what hosts report back.

Every job state change happens here, for pages, the REST API, the host API
and the sweeper alike. Services raise the site's own errors
(``webapp.errors``), which the API maps to HTTP once.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webapp.accounts import quotas
from webapp.accounts.models import Team
from webapp.audit.services import record, redact
from webapp.errors import Conflict, Forbidden, Invalid, NotFound
from webapp.fleet.models import Host
from webapp.inventory.services import mark_unknown
from webapp.jobs.choices import HOST_END_STATES, JobState
from webapp.jobs.kinds import kind_of
from webapp.jobs.models import Job
from webapp.jobs.publish import announce, publish
from webapp.jobs.signals import job_ended
from webapp.permissions import RUN, is_fleet_admin

log = logging.getLogger(__name__)


def first_error(errors: object, where: str = "") -> tuple[str, str]:
    """The first message in DRF's nested errors and the path to it (``ports[0]``)."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            if key == "non_field_errors":
                return first_error(value, where)
            step = f"[{key}]" if str(key).isdigit() else (f"{where}.{key}" if where else str(key))
            return first_error(value, where + step if str(key).isdigit() else step)
    if isinstance(errors, list) and errors:
        return first_error(errors[0], where)
    return where, str(errors)


def check_create_job(
    user: object, kind: str, host: Host, team: Team | None, params: object = None
) -> tuple[Team, dict]:
    """Validate a job request; return the team it runs for and its checked parameters."""
    spec = kind_of(kind)
    if spec is None:
        raise Invalid(f"unknown job kind {kind!r}", field="kind")
    checked = spec.params(data=params if params is not None else {})
    if not checked.is_valid():
        where, message = first_error(checked.errors)
        raise Invalid(
            f"bad parameters for {kind}: {where}: {message}"
            if where
            else f"bad parameters for {kind}: {message}",
            field="params",
            detail=checked.errors,
        )
    teams = Team.objects.for_user(user, RUN)
    if team is None:
        team = teams.order_by("name").first()
        if team is None:
            raise Forbidden("you are in no team that may start jobs (viewers may only watch)")
    elif not teams.filter(pk=team.pk).exists():
        raise Forbidden(f"you may not start jobs for team {team.name!r}")
    if not is_fleet_admin(user) and not Host.objects.granted_to(team).filter(pk=host.pk).exists():
        raise Invalid(f"host {host.name} is not granted to team {team.name}", field="host")
    if not host.schedulable:
        raise Invalid(f"host {host.name} is {host.state} and takes no new jobs", field="host")
    return team, dict(checked.validated_data)


def do_create_job(
    user: object,
    kind: str,
    host: Host,
    team: Team,
    params: dict | None = None,
    deadline: timedelta | None = None,
) -> Job:
    """Record the job, then queue it to its host's worker once the row is committed.

    A container or volume is counted against the team's quota here, in the
    transaction that records it, under a lock of the quota's row
    (``webapp.accounts.quotas.check``): raises ``Invalid`` over a limit.

    If the broker is away at that moment the job stays recorded as queued and
    the sweeper sends it later, with the same message id (so it runs once).
    """
    spec = kind_of(kind)
    wait = deadline or timedelta(seconds=settings.WHARF_JOB_QUEUE_DEADLINE)
    with transaction.atomic():
        quotas.check(team, kind, params or {})
        job = Job.objects.create(
            kind=kind,
            host=host,
            team=team,
            requester=user if getattr(user, "pk", None) else None,
            params=params or {},
            message_id=uuid.uuid4().hex,
            deadline=timezone.now() + wait,
            time_limit=spec.limit_for(params or {}) if spec else 3600,
        )
        record(
            "job.create",
            job,
            actor=user,
            team=team,
            after={"kind": kind, "host": host.name, "params": redact(job.params)},
        )
        transaction.on_commit(lambda: enqueue(job))
        _listed(job, JobState.QUEUED)
    return job


def _listed(job: Job, state: str) -> None:
    """Tell the jobs lists of the admins and of the job's team that it is new or changed state."""
    data = {"id": job.pk, "kind": job.kind, "state": state, "host": job.host.name}
    announce("job", data, [job.team_id])


def _tell(job: Job, message: dict) -> None:
    """Publish a state change to the job's page (its output socket) and to the jobs lists."""
    publish(job.group, message)
    _listed(job, message["state"])


def enqueue(job: Job) -> bool:
    """Hand the job's signed message to the broker; False (and logged) if the broker is away."""
    from webapp.fleet import broker
    from webapp.jobs.signing import sign

    envelope = sign(job.pk, job.host.name, job.message_id)
    try:
        broker.send_job(job.host.name, envelope, job.message_id, job.time_limit)
    except Exception as exc:  # noqa: BLE001 - any broker failure: the sweeper sends it again
        log.warning("job %s not sent yet (%s); the sweeper will send it", job.pk, exc)
        return False
    Job.objects.filter(pk=job.pk, enqueued__isnull=True).update(enqueued=timezone.now())
    return True


def check_cancel_job(user: object, job: Job) -> None:
    """Anyone who may start jobs in the job's team may cancel it, whatever its host's state."""
    if not Team.objects.for_user(user, RUN).filter(pk=job.team_id).exists():
        raise Forbidden(f"you may not cancel jobs of team {job.team.name!r}")


def do_cancel_job(job: Job) -> str:
    """Cancel a job that has not ended; return "cancelled" or "cancelling".

    A queued job never runs (whatever its host's state); a running one is told
    to stop at its next report and ends as cancelled saying what it left.
    """
    if Job.objects.filter(pk=job.pk, state=JobState.QUEUED).update(
        state=JobState.CANCELLED,
        finished=timezone.now(),
        error="cancelled before it ran",
        error_kind="cancelled",
        cancel_requested=True,
    ):
        _tell(job, {"type": "state", "state": JobState.CANCELLED})
        record("job.cancel", job, before={"state": JobState.QUEUED}, after={"state": "cancelled"})
        return "cancelled"
    if Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(cancel_requested=True):
        _tell(job, {"type": "state", "state": JobState.RUNNING, "cancelling": True})
        record("job.cancel", job, before={"state": JobState.RUNNING}, after={"state": "cancelling"})
        return "cancelling"
    job.refresh_from_db()
    raise Conflict(f"job {job.pk} has ended ({job.state}): there is nothing to cancel")


# --- what hosts report (the host API calls these) ---------------------------------------


def _host_job(host: Host, job_id: int) -> Job:
    job = Job.objects.select_related("host").filter(pk=job_id, host=host).first()
    if job is None:
        raise NotFound(f"job {job_id} is not a job of host {host.name}")
    return job


def claim_job(host: Host, job_id: int, message_id: str, redelivered: bool) -> Job:
    """Let the host run a job for this message, or refuse with the reason."""
    job = _host_job(host, job_id)
    spec = kind_of(job.kind)
    retry = redelivered and bool(spec and spec.retry_safe)
    if not job.claim(message_id, retry=retry):
        job.refresh_from_db()
        if job.state == JobState.RUNNING and redelivered and job.message_id == message_id:
            # its worker was lost, and this kind may not simply run again (a message of an
            # earlier attempt, which the broker may still hand out, changes nothing)
            _end(job, JobState.FAILED, "the worker running it was lost", "worker_lost")
        raise Conflict(f"job {job_id} is {job.state}: not to run for message {message_id}")
    _tell(job, {"type": "state", "state": JobState.RUNNING, "attempt": job.attempts})
    return job


def upload_for(host: Host, job_id: int) -> Path:
    """The upload of one of HOST's jobs, while it runs (fetched once the host has claimed it)."""
    from webapp.inventory.uploads import path_for

    job = _host_job(host, job_id)
    if job.state != JobState.RUNNING:
        raise Conflict(f"job {job_id} is {job.state}: its upload is for its run only")
    path = path_for(job.pk)
    if not path.exists():
        raise NotFound(f"job {job_id} has no upload")
    return path


def store_lines(host: Host, job_id: int, lines: list[dict]) -> bool:
    """Store and publish a batch of output lines; return whether the job was cancelled."""
    job = _host_job(host, job_id)
    if job.state != JobState.RUNNING:
        raise Conflict(f"job {job_id} is {job.state}: it takes no more output")
    stored = job.append_lines(lines)
    if stored:  # one message per batch: per line, publishing capped output at ~300 lines/s
        publish(job.group, {"type": "lines", "lines": [line.as_message() for line in stored]})
    return job.cancel_requested


def finish_job(host: Host, job_id: int, state: str, result: dict, error: str, kind: str) -> Job:
    job = _host_job(host, job_id)
    if state not in HOST_END_STATES:
        raise Invalid(f"a host may end a job as {sorted(HOST_END_STATES)}, not {state!r}", "state")
    if not _end(job, state, error, kind, result):
        job.refresh_from_db()
        if job.state != state:
            raise Conflict(f"job {job_id} has ended already ({job.state})")
    return job


def _end(job: Job, state: str, error: str, kind: str, result: dict | None = None) -> bool:
    if not job.finish(state, result, error, kind):
        return False
    job_ended.send(sender=Job, job=job)
    _tell(job, {"type": "state", "state": state, "error": error, "error_kind": kind})
    return True


def settle_heartbeat(host: Host, running: list[int], received: timezone.datetime) -> list[int]:
    """Compare the host's running jobs with ours; end the lost ones; return those to cancel.

    A job we think runs there but that two beats in a row do not list was lost
    with its worker (one beat may have been taken just before the worker
    noted the job): past its hard limit it ends as "time limit", else it runs
    again where its kind is safe to retry, or ends as "worker lost".
    """
    mine = Job.objects.filter(host=host, state=JobState.RUNNING)
    mine.filter(pk__in=running).exclude(unseen_since=None).update(unseen_since=None)
    grace = received - timedelta(seconds=settings.WHARF_HEARTBEAT_SECONDS)
    unseen = mine.exclude(pk__in=running).filter(started__lt=grace)
    unseen.filter(unseen_since=None).update(unseen_since=received)
    hard_grace = settings.WHARF_JOB_HARD_GRACE
    for job in unseen.filter(unseen_since__lt=grace):
        if job.started + timedelta(seconds=job.time_limit + hard_grace) < received:
            _end(job, JobState.FAILED, "time limit: the job ran past its limit", "time_limit")
        elif not _run_again(job):
            _end(job, JobState.FAILED, "the worker running it was lost", "worker_lost")
    return list(mine.filter(cancel_requested=True, pk__in=running).values_list("pk", flat=True))


#: how often a job whose worker was lost is run again (where its kind allows it)
MAX_ATTEMPTS = 3


def _run_again(job: Job) -> bool:
    """Queue a lost job again if its kind is safe to retry; False if it may not run again.

    It gets a new message id, so the old message, should the broker still
    hand it out, is refused at claim; what the first run made is found by the
    job's idempotency key (``wharf.job=<id>``), so the effect happens once.
    """
    spec = kind_of(job.kind)
    if not (spec and spec.retry_safe) or job.attempts >= MAX_ATTEMPTS:
        return False
    with transaction.atomic():
        again = Job.objects.filter(
            pk=job.pk, state=JobState.RUNNING, cancel_requested=False
        ).update(
            state=JobState.QUEUED, message_id=uuid.uuid4().hex, enqueued=None, unseen_since=None
        )
        if not again:
            return False
        job.refresh_from_db()
        transaction.on_commit(lambda: enqueue(job))
    log.warning(
        "job %s: its worker was lost; running it again (attempt %s)", job.pk, job.attempts + 1
    )
    _tell(
        job,
        {
            "type": "state",
            "state": JobState.QUEUED,
            "error": "the worker running it was lost; it runs again",
        },
    )
    return True


# --- the sweeper ------------------------------------------------------------------------


def sweep(now: timezone.datetime | None = None, judge_hosts: bool = True) -> dict[str, list[int]]:
    """One round of the fleet's bookkeeping; return what it did, by kind, as job ids.

    Hosts silent too long become unreachable and their running jobs fail
    (unless JUDGE_HOSTS is false: the site itself was away, so their silence
    says nothing); queued jobs past their deadline expire; jobs never handed
    to the broker are sent; running jobs past their hard limit fail.
    """
    now = now or timezone.now()
    done: dict[str, list[int]] = {
        "unreachable": [],
        "expired": [],
        "sent": [],
        "time_limit": [],
        "uploads_removed": [],
    }
    for name in Host.mark_unreachable(now) if judge_hosts else []:
        mark_unknown(name)
        for job in Job.objects.filter(host__name=name, state=JobState.RUNNING):
            if _end(job, JobState.FAILED, f"host {name} stopped answering", "host_unreachable"):
                done["unreachable"].append(job.pk)
    for job in Job.objects.filter(state=JobState.QUEUED, deadline__lt=now):
        if _end(job, JobState.EXPIRED, "no worker took the job before its deadline", "expired"):
            done["expired"].append(job.pk)
    unsent = Job.objects.filter(
        state=JobState.QUEUED, enqueued__isnull=True, created__lt=now - timedelta(seconds=2)
    ).select_related("host")
    for job in unsent:
        if enqueue(job):
            done["sent"].append(job.pk)
    for job in Job.objects.filter(state=JobState.RUNNING, started__isnull=False):
        hard = job.time_limit + settings.WHARF_JOB_HARD_GRACE
        if job.started + timedelta(seconds=hard + settings.WHARF_UNREACHABLE_AFTER) < now and _end(
            job, JobState.FAILED, "time limit: the job ran past its limit", "time_limit"
        ):
            done["time_limit"].append(job.pk)
    from webapp.inventory.uploads import sweep_ended

    done["uploads_removed"] = sweep_ended()
    return done
