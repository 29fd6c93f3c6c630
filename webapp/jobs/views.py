"""Pages: the dashboard (hosts and jobs, each table refreshed by the inventory socket) and one job's page.

Every query of jobs goes through ``Job.objects.for_user`` (``webapp.permissions``),
like the API's; what a person may do on a page (start, cancel, run again) is
asked the same way, so a viewer sees why a button is not there for them.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from webapp.accounts.models import Team
from webapp.accounts.team_pages import quota_cards
from webapp.errors import SiteError
from webapp.fleet.models import Host
from webapp.inventory.views import containers_by_state, unhealthy_containers
from webapp.jobs.api.filters import filter_jobs, read_query
from webapp.jobs.choices import JobKind, JobState
from webapp.jobs.models import Job
from webapp.jobs.services import check_cancel_job, check_create_job, do_cancel_job, do_create_job
from webapp.pages import login_required
from webapp.permissions import RUN, VIEW, permits

JOBS_PER_PAGE = 25
#: hosts the dashboard's table shows, by name (the hosts page lists them all): a fleet of
#: a hundred rendered in full cost the dashboard most of its time
DASHBOARD_HOSTS = 25


def _hosts_context(request: HttpRequest) -> dict:
    hosts = Host.objects.for_user(request.user, VIEW)
    shown = list(hosts[: DASHBOARD_HOSTS + 1])
    more = len(shown) > DASHBOARD_HOSTS
    return {
        "hosts": shown[:DASHBOARD_HOSTS],
        "hosts_total": hosts.count() if more else len(shown),
        "hosts_more": more,
        "may_start": Team.objects.for_user(request.user, RUN).exists(),
    }


def _jobs_context(request: HttpRequest) -> dict:
    """One page of the jobs table, filtered like the API's list (a bad filter shows all)."""
    try:
        query = read_query(request.GET)
    except ValidationError:
        query = {}
    jobs = filter_jobs(
        Job.objects.for_user(request.user, VIEW).select_related("host", "team", "requester"),
        query,
    )
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    kept = urlencode({k: query[k] for k in ("state", "kind", "host", "search") if query.get(k)})
    return {
        "jobs_page": page,
        "job_states": JobState.choices,
        "job_query": query,
        "job_kept": kept,
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {**_hosts_context(request), **_jobs_context(request)}
    context["quota_cards"] = quota_cards(request.user)
    context["unhealthy"] = unhealthy_containers(request.user)
    return render(
        request, "dashboard.html", {**context, "containers": containers_by_state(request.user)}
    )


@login_required
def hosts_table(request: HttpRequest) -> HttpResponse:
    """The hosts table alone: the dashboard reads it again when the inventory socket says a host changed."""
    return render(request, "fleet/hosts_table.html", _hosts_context(request))


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    """Every job of my teams, newest first, filtered like the API's list (state, kind, host, text)."""
    context = {
        **_jobs_context(request),
        "kinds": JobKind.choices,
        "hosts": Host.objects.for_user(request.user, VIEW).order_by("name"),
    }
    return render(request, "jobs/list.html", context)


@login_required
def jobs_table(request: HttpRequest) -> HttpResponse:
    """The jobs table alone, one page of it: read again on the socket's job changes, same page and filter."""
    return render(request, "jobs/jobs_table.html", _jobs_context(request))


def duration(job: Job) -> timedelta | None:
    """How long the job ran (so far, while it runs); None before it started."""
    if job.started is None:
        return None
    return (job.finished or timezone.now()) - job.started


#: a layer's progress line of a pull: "<12 hex digits>: <status>" (``worker.jobs.images``)
LAYER_LINE = re.compile(r"^([0-9a-f]{12}): (.+)$")


def layers(lines: list) -> dict[str, str]:
    """Each layer's last progress line of a pull's output, in the order the layers appeared."""
    out: dict[str, str] = {}
    for line in lines:
        match = LAYER_LINE.match(line.text)
        if match:
            out[match.group(1)] = match.group(2)
    return out


@login_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    jobs = Job.objects.for_user(request.user, VIEW).select_related("host", "team", "requester")
    job = get_object_or_404(jobs, pk=job_id)
    took = duration(job)
    lines = list(job.lines.order_by("seq"))
    context = {
        "job": job,
        "lines": lines,
        "layers": layers(lines) if job.kind == JobKind.IMAGE_PULL else None,
        "may_run": permits(request.user, job, RUN),
        "duration": None if took is None else timedelta(seconds=round(took.total_seconds())),
    }
    return render(request, "jobs/detail.html", context)


@login_required
@require_POST
def job_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(Job.objects.for_user(request.user, VIEW), pk=job_id)
    try:
        check_cancel_job(request.user, job)
        outcome = do_cancel_job(job)
    except SiteError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Job {job.pk} {outcome}.")
    return redirect("job-page", job_id=job.pk)


@login_required
@require_POST
def job_rerun(request: HttpRequest, job_id: int) -> HttpResponse:
    """A new job of the same kind, host, team and parameters (checked again, like a new one)."""
    job = get_object_or_404(Job.objects.for_user(request.user, VIEW), pk=job_id)
    try:
        team, params = check_create_job(request.user, job.kind, job.host, job.team, job.params)
        again = do_create_job(request.user, job.kind, job.host, team, params)
    except SiteError as exc:
        messages.error(request, str(exc))
        return redirect("job-page", job_id=job.pk)
    messages.success(request, f"Started job {again.pk}: job {job.pk} once more.")
    return redirect("job-page", job_id=again.pk)


@login_required
@require_POST
def start_host_check(request: HttpRequest, host_name: str) -> HttpResponse:
    host = get_object_or_404(Host.objects.for_user(request.user, RUN), name=host_name)
    try:
        team, params = check_create_job(request.user, JobKind.HOST_CHECK, host, None)
    except SiteError as exc:
        messages.error(request, str(exc))
        return redirect("dashboard")
    job = do_create_job(request.user, JobKind.HOST_CHECK, host, team, params)
    return redirect("job-page", job_id=job.pk)
