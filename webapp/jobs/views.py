"""Pages: the dashboard (hosts and jobs) and one job's live output."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from webapp.errors import SiteError
from webapp.fleet.models import Host
from webapp.jobs.choices import JobKind
from webapp.jobs.models import visible_jobs
from webapp.jobs.services import check_create_job, do_create_job


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    hosts = Host.objects.all()
    jobs = visible_jobs(request.user).select_related("host", "team", "requester")[:50]
    return render(request, "dashboard.html", {"hosts": hosts, "jobs": jobs})


@login_required
def hosts_table(request: HttpRequest) -> HttpResponse:
    """The hosts table alone: the dashboard polls it so states change without a reload."""
    return render(request, "fleet/hosts_table.html", {"hosts": Host.objects.all()})


@login_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(visible_jobs(request.user).select_related("host", "team"), pk=job_id)
    return render(request, "jobs/detail.html", {"job": job, "lines": job.lines.all()})


@login_required
@require_POST
def start_host_check(request: HttpRequest, host_name: str) -> HttpResponse:
    host = get_object_or_404(Host, name=host_name)
    try:
        team, params = check_create_job(request.user, JobKind.HOST_CHECK, host, None)
    except SiteError as exc:
        messages.error(request, str(exc))
        return redirect("dashboard")
    job = do_create_job(request.user, JobKind.HOST_CHECK, host, team, params)
    return redirect("job-detail", job_id=job.pk)
