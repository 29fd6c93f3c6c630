"""The volumes and networks pages: each list per host with its create form, one object's page
(a network's containers; a volume's users and a read-only browser of its files) and remove — every action a job started as the
API starts it."""

from __future__ import annotations

import posixpath
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from webapp.errors import SiteError
from webapp.inventory import operations
from webapp.inventory.api.requests import NetworkCreateIn, VolumeCreateIn
from webapp.inventory.models import Container, Network, Volume
from webapp.inventory.page_helpers import (
    error_lines,
    list_context,
    may_run,
    mine,
    read_job,
    start_from_form,
)
from webapp.jobs.choices import JobKind
from webapp.pages import login_required
from webapp.permissions import VIEW

VOLUME_FIELDS = ("name", "host", "team")
NETWORK_FIELDS = ("name", "subnet", "internal", "host", "team")

#: per kind: the model, its create serializer and job, the form's fields, templates' folder
KINDS = {
    "volume": (Volume, VolumeCreateIn, JobKind.VOLUME_CREATE, VOLUME_FIELDS, "volumes"),
    "network": (Network, NetworkCreateIn, JobKind.NETWORK_CREATE, NETWORK_FIELDS, "networks"),
}


def _list(request: HttpRequest, kind: str, form: dict | None = None, errors: dict | None = None):
    model, _, _, fields, _ = KINDS[kind]
    errors = errors or {}
    return {
        **list_context(request, model),
        "form": form or {f: "" for f in fields},
        "errors": errors,
        "other_errors": error_lines(errors, fields),
    }


def _list_view(template: str, kind: str):  # noqa: ANN202 - a view
    @login_required
    def view(request: HttpRequest) -> HttpResponse:
        return render(request, template, _list(request, kind))

    return view


volume_list = _list_view("volumes/list.html", "volume")
volume_table = _list_view("volumes/table.html", "volume")
network_list = _list_view("networks/list.html", "network")
network_table = _list_view("networks/table.html", "network")


def _create(request: HttpRequest, kind: str) -> HttpResponse:
    _, serializer, job_kind, fields, folder = KINDS[kind]
    form = {f: request.POST.get(f, "").strip()[:1024] for f in fields}
    data: dict = {k: v for k, v in form.items() if v}
    if "internal" in data:
        data["internal"] = data["internal"] == "1"
    job, errors = start_from_form(request, serializer, job_kind, data)
    if job is None:
        context = _list(request, kind, form, errors)
        return render(request, f"{folder}/list.html", context, status=400)
    messages.success(request, f"Started job {job.pk}: create {kind} {form['name']}".rstrip() + ".")
    return redirect("job-page", job_id=job.pk)


@login_required
@require_POST
def volume_create(request: HttpRequest) -> HttpResponse:
    return _create(request, "volume")


@login_required
@require_POST
def network_create(request: HttpRequest) -> HttpResponse:
    return _create(request, "network")


@login_required
def volume_detail(request: HttpRequest, volume_id: int) -> HttpResponse:
    volume = mine(request, Volume, volume_id)
    users = [
        c
        for c in Container.objects.for_user(request.user, VIEW).filter(host=volume.host_id)
        if any(m.get("name") == volume.name for m in c.mounts or [])
    ]
    listing = request.GET.get("listing", "")
    context = {
        "volume": volume,
        "may_run": may_run(request, volume),
        "containers": users,
        "listing_job": int(listing) if listing.isdigit() and len(listing) < 12 else None,
        "path": request.GET.get("path", "/")[:4096],
    }
    return render(request, "volumes/detail.html", context)


@login_required
@require_POST
def volume_files(request: HttpRequest, volume_id: int) -> HttpResponse:
    """Ask the host for one directory of the volume; the volume's page shows it when done."""
    volume = mine(request, Volume, volume_id)
    path = request.POST.get("path", "/")[:4096] or "/"
    try:
        job = operations.act(
            request.user, volume, JobKind.VOLUME_FILES, name=volume.name, path=path
        )
    except SiteError as exc:
        messages.error(request, str(exc))
        return redirect("volume-page", volume.pk)
    query = urlencode({"path": path, "listing": job.pk})
    return redirect(f"{reverse('volume-page', args=[volume.pk])}?{query}#files")


@login_required
def volume_files_result(request: HttpRequest, volume_id: int, job_id: int) -> HttpResponse:
    """The listing job's answer (entries, each directory a button to go in), or "waiting"."""
    volume = mine(request, Volume, volume_id)
    job = read_job(request, job_id, JobKind.VOLUME_FILES, name=volume.name)
    path = job.result.get("path") or job.params.get("path", "/")
    parent = posixpath.dirname(path.rstrip("/")) or "/"
    context = {
        "volume": volume,
        "job": job,
        "may_run": may_run(request, volume),
        "parent": parent if path != "/" else None,
        "here": path,
    }
    return render(request, "volumes/files.html", context)


@login_required
def network_detail(request: HttpRequest, network_id: int) -> HttpResponse:
    network = mine(request, Network, network_id)
    members = [
        (c, n)
        for c in Container.objects.for_user(request.user, VIEW).filter(host=network.host_id)
        for n in c.networks or []
        if n.get("name") == network.name
    ]
    context = {"network": network, "may_run": may_run(request, network), "containers": members}
    return render(request, "networks/detail.html", context)


def _remove(request: HttpRequest, obj: Volume | Network, kind: str, **params: object):
    try:
        job = operations.act(request.user, obj, kind, **params)
    except SiteError as exc:
        messages.error(request, str(exc))
        return redirect(f"{obj.kind}-page", obj.pk)
    messages.success(request, f"Started job {job.pk}: remove {obj.kind} {obj.name}.")
    return redirect("job-page", job_id=job.pk)


@login_required
@require_POST
def volume_remove(request: HttpRequest, volume_id: int) -> HttpResponse:
    volume = mine(request, Volume, volume_id)
    return _remove(request, volume, JobKind.VOLUME_REMOVE, name=volume.name)


@login_required
@require_POST
def network_remove(request: HttpRequest, network_id: int) -> HttpResponse:
    network = mine(request, Network, network_id)
    return _remove(request, network, JobKind.NETWORK_REMOVE, network=network.name)
