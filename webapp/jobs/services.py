"""Check, then do: validate a job request, then record it and queue it to its host."""

from __future__ import annotations

from django.db import transaction
from rest_framework.exceptions import PermissionDenied, ValidationError

from webapp.accounts.models import Team, writable_teams
from webapp.fleet.models import Host
from webapp.jobs.choices import JobKind, JobState
from webapp.jobs.models import Job
from webapp.jobs.publish import publish


def check_create_job(user: object, kind: str, host: Host, team: Team | None) -> Team:
    """Validate a job request; return the team it runs for."""
    if kind not in JobKind.values:
        raise ValidationError({"kind": f"unknown job kind {kind!r}"})
    teams = writable_teams(user)
    if team is None:
        team = teams.order_by("name").first()
        if team is None:
            raise PermissionDenied("you are in no team that may start jobs")
    elif not teams.filter(pk=team.pk).exists():
        raise PermissionDenied(f"you may not start jobs for team {team.name!r}")
    if not host.schedulable:
        raise ValidationError({"host": f"host {host.name} is {host.state} and takes no new jobs"})
    return team


def do_create_job(
    user: object, kind: str, host: Host, team: Team, params: dict | None = None
) -> Job:
    """Record the job and queue it to its host's worker once the row is committed."""
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind, host=host, team=team, requester=user, params=params or {}
        )
        transaction.on_commit(lambda: enqueue(job))
    return job


def enqueue(job: Job) -> None:
    from worker.celery import app

    app.send_task("wharf.run_job", args=[job.pk], queue=job.host.queue)


def do_cancel_job(job: Job) -> bool:
    """Cancel a job that has not started; a running job finishes on its host."""
    cancelled = Job.objects.filter(pk=job.pk, state=JobState.QUEUED).update(
        state=JobState.CANCELLED
    )
    if cancelled:
        publish(job.group, {"type": "state", "state": JobState.CANCELLED})
    return bool(cancelled)
