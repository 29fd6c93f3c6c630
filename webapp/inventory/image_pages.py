"""The images pages: the list per host (filters, search) with the pull form, and one image
(tags, tag it, remove it). Each action is a job started as the API starts it; a pull's page is
its job's page, where each layer's progress line shows as the host sends it."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from webapp.errors import SiteError
from webapp.inventory import operations
from webapp.inventory.api.requests import ImagePullIn
from webapp.inventory.models import Image
from webapp.inventory.page_helpers import (
    error_lines,
    field_errors,
    list_context,
    may_run,
    mine,
    read_job,
    start_from_form,
)
from webapp.jobs.choices import JobKind
from webapp.pages import login_required

PULL_FIELDS = ("reference", "host", "team")


def _list(request: HttpRequest, form: dict | None = None, errors: dict | None = None) -> dict:
    errors = errors or {}
    return {
        **list_context(request, Image),
        "form": form or {f: "" for f in PULL_FIELDS},
        "errors": errors,
        "other_errors": error_lines(errors, PULL_FIELDS),
    }


@login_required
def image_list(request: HttpRequest) -> HttpResponse:
    return render(request, "images/list.html", _list(request))


@login_required
def image_table(request: HttpRequest) -> HttpResponse:
    """The table alone (same filters and page): the list asks for it when the inventory changes."""
    return render(request, "images/table.html", _list(request))


@login_required
@require_POST
def image_pull(request: HttpRequest) -> HttpResponse:
    """Pull on the chosen host; its job's page shows each layer's progress live."""
    form = {f: request.POST.get(f, "").strip()[:1024] for f in PULL_FIELDS}
    data = {k: v for k, v in form.items() if v}
    job, errors = start_from_form(request, ImagePullIn, JobKind.IMAGE_PULL, data)
    if job is None:
        return render(request, "images/list.html", _list(request, form, errors), status=400)
    messages.success(request, f"Started job {job.pk}: pull {form['reference']}.")
    return redirect("job-page", job_id=job.pk)


def _detail(request: HttpRequest, image: Image, target: str = "", errors: dict | None = None):
    history = request.GET.get("history", "")
    context = {
        "image": image,
        "history_job": int(history) if history.isdigit() and len(history) < 12 else None,
        "may_run": may_run(request, image),
        "target": target,
        "errors": errors or {},
    }
    return render(request, "images/detail.html", context, status=400 if errors else 200)


@login_required
def image_detail(request: HttpRequest, image_id: int) -> HttpResponse:
    return _detail(request, mine(request, Image, image_id))


@login_required
@require_POST
def image_tag(request: HttpRequest, image_id: int) -> HttpResponse:
    image = mine(request, Image, image_id)
    target = request.POST.get("target", "").strip()[:1024]
    try:
        job = operations.act(
            request.user, image, JobKind.IMAGE_TAG, image=image.engine_id, target=target
        )
    except SiteError as exc:
        errors = field_errors(exc.detail) if exc.detail else {"target": [str(exc)]}
        if "target" not in errors:
            errors = {"target": [line for lines in errors.values() for line in lines]}
        return _detail(request, image, target, errors)
    messages.success(request, f"Started job {job.pk}: tag {image.name or image.engine_id[:19]}.")
    return redirect("job-page", job_id=job.pk)


@login_required
@require_POST
def image_remove(request: HttpRequest, image_id: int) -> HttpResponse:
    image = mine(request, Image, image_id)
    force = request.POST.get("force") == "1"
    try:
        job = operations.act(
            request.user, image, JobKind.IMAGE_REMOVE, image=image.engine_id, force=force
        )
    except SiteError as exc:
        messages.error(request, str(exc))
        return redirect("image-page", image_id=image.pk)
    messages.success(request, f"Started job {job.pk}: remove {image.name or image.engine_id[:19]}.")
    return redirect("job-page", job_id=job.pk)


@login_required
@require_POST
def image_history(request: HttpRequest, image_id: int) -> HttpResponse:
    """Ask the host for the image's history; the image's page shows it when the job ends."""
    image = mine(request, Image, image_id)
    try:
        job = operations.act(request.user, image, JobKind.IMAGE_HISTORY, image=image.engine_id)
    except SiteError as exc:
        messages.error(request, str(exc))
        return redirect("image-page", image_id=image.pk)
    return redirect(f"{reverse('image-page', args=[image.pk])}?history={job.pk}#history")


@login_required
def image_history_result(request: HttpRequest, image_id: int, job_id: int) -> HttpResponse:
    """The history job's answer as a table, or "waiting" that asks again (htmx) while it runs."""
    image = mine(request, Image, image_id)
    job = read_job(request, job_id, JobKind.IMAGE_HISTORY, image=image.engine_id)
    return render(request, "images/history.html", {"image": image, "job": job})
