"""The images pages: the list per host (filters, search) with the pull form, the build form
(a pasted Dockerfile or an uploaded context), one image (tag, push, history, remove) and, for
fleet admins, prune (images, volumes and networks alike). Each action is a job started as the API starts it; a pull's page is
its job's page, where each layer's progress line shows as the host sends it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from webapp.api.errors import RequestBodyTooLarge
from webapp.errors import SiteError
from webapp.inventory import operations, uploads
from webapp.inventory.api.requests import BuildIn, ImagePullIn, PruneAllIn, PruneIn, PushIn
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
from webapp.jobs import params
from webapp.jobs.choices import JobKind
from webapp.pages import login_required
from webapp.permissions import VIEW
from webapp.registries.models import Registry

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


def _detail(
    request: HttpRequest,
    image: Image,
    target: str = "",
    errors: dict | None = None,
    push: dict | None = None,
    push_errors: dict | None = None,
) -> HttpResponse:
    history = request.GET.get("history", "")
    context = {
        "push": push or {"tag": "", "registry": ""},
        "push_errors": push_errors or {},
        "registries": Registry.objects.for_user(request.user, VIEW).order_by("name"),
        "image": image,
        "history_job": int(history) if history.isdigit() and len(history) < 12 else None,
        "may_run": may_run(request, image),
        "target": target,
        "errors": errors or {},
    }
    return render(
        request, "images/detail.html", context, status=400 if errors or push_errors else 200
    )


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


@login_required
@require_POST
def image_push(request: HttpRequest, image_id: int) -> HttpResponse:
    """Push to a registry with its stored credentials (they reach the host with the job only)."""
    image = mine(request, Image, image_id)
    form = {f: request.POST.get(f, "").strip()[:1024] for f in ("tag", "registry")}
    s = PushIn(data={k: v for k, v in form.items() if v}, context={"request": request})
    errors: dict = {}
    if not s.is_valid():
        errors = field_errors(s.errors)
    else:
        try:
            job = operations.push_image(
                request.user,
                image,
                s.validated_data.get("tag", ""),
                s.validated_data.get("registry"),
            )
        except SiteError as exc:
            errors = field_errors(exc.detail) if exc.detail else {exc.field or "tag": [str(exc)]}
        else:
            messages.success(request, f"Started job {job.pk}: push {job.params['target']}.")
            return redirect("job-page", job_id=job.pk)
    if not set(errors) <= {"tag", "registry"}:
        errors = {"tag": [line for lines in errors.values() for line in lines]}
    return _detail(request, image, push=form, push_errors=errors)


BUILD_FIELDS = ("dockerfile", "tag", "build_args", "target", "no_cache", "host", "team")


def _build_page(request: HttpRequest, form: dict, errors: dict, status: int = 200) -> HttpResponse:
    context = {
        **list_context(request, Image),
        "form": form,
        "errors": errors,
        "other_errors": error_lines(errors, (*BUILD_FIELDS, "context")),
        "upload_max": settings.WHARF_UPLOAD_MAX_BYTES,
    }
    return render(request, "images/build.html", context, status=status)


@csrf_exempt  # checked below, once the upload handler is in place (Django's own pattern)
@login_required
def image_build(request: HttpRequest) -> HttpResponse:
    """The build form: a pasted Dockerfile, an uploaded context tar, or both.

    The context goes to disk in chunks through the API's upload handler (never
    whole in memory; past ``WHARF_UPLOAD_MAX_BYTES`` it is refused, 413); the
    form is ``BuildIn``, the job starts as the API's does, and its page shows
    the steps as they run.
    """
    empty = {f: "" for f in BUILD_FIELDS}
    if request.method == "POST":
        request.upload_handlers = [uploads.LimitedUploadHandler(request)]
        try:
            request.POST  # noqa: B018 - parsed here: the CSRF check reads it first
        except RequestBodyTooLarge as exc:
            # nothing is done with an upload over the limit (its part is gone), so the
            # answer needs no CSRF check: only the form again, with the field's error
            return _build_page(request, empty, {"context": [str(exc.detail)]}, status=413)
    return _image_build(request)


@csrf_protect
def _image_build(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _build_page(request, {f: "" for f in BUILD_FIELDS}, {})
    post, files = request.POST, request.FILES
    form = {f: post.get(f, "")[: params.DOCKERFILE_MAX] for f in BUILD_FIELDS}
    data: dict = {k: v.strip() for k, v in form.items() if v.strip() and k != "dockerfile"}
    if form["dockerfile"].strip():
        data["dockerfile"] = form["dockerfile"]
    for field in ("tag", "build_args"):
        if field in data:
            data[field] = [line.strip() for line in data[field].splitlines() if line.strip()]
    data["no_cache"] = form["no_cache"] == "1"
    if files.get("context"):
        data["context"] = files["context"]
    s = BuildIn(data=data, context={"request": request})
    if not s.is_valid():
        return _build_page(request, form, field_errors(s.errors), status=400)
    try:
        job = operations.build_image(request.user, s.validated_data)
    except SiteError as exc:
        errors = (
            field_errors(exc.detail)
            if exc.detail
            else {exc.field or "non_field_errors": [str(exc)]}
        )
        return _build_page(request, form, errors, status=400)
    messages.success(request, f"Started job {job.pk}: build on {job.host.name}.")
    return redirect("job-page", job_id=job.pk)


@login_required
@require_POST
def prune(request: HttpRequest, kind: str) -> HttpResponse:
    """Prune one host's unused images, volumes or networks: every team's, fleet admins only."""
    if kind not in PRUNES:
        raise Http404(f"nothing to prune called {kind}")
    job_kind, serializer, back = PRUNES[kind]
    data = {"host": request.POST.get("host", "")[:200], "all": request.POST.get("all") == "1"}
    if serializer is PruneIn:
        data.pop("all")
    s = serializer(data=data, context={"request": request})
    try:
        if not s.is_valid():
            raise SiteError(
                "; ".join(f"{f}: {' '.join(e)}" for f, e in field_errors(s.errors).items())
            )
        checked = dict(s.validated_data)
        job = operations.prune(request.user, checked.pop("host"), job_kind, checked)
    except SiteError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    messages.success(request, f"Started job {job.pk}: prune {kind} on {job.host.name}.")
    return redirect("job-page", job_id=job.pk)


#: what each list's prune form starts: the job kind, the API's serializer, the list to go back to
PRUNES = {
    "images": (JobKind.IMAGE_PRUNE, PruneAllIn, "images"),
    "volumes": (JobKind.VOLUME_PRUNE, PruneAllIn, "volumes"),
    "networks": (JobKind.NETWORK_PRUNE, PruneIn, "networks"),
}
