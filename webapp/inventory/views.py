"""The containers pages: the list (filters, paging, bulk actions), the run form and one container.

Every query goes through ``Container.objects.for_user`` like the API's, so a
container of another team is a 404 here too. Each action is a job started by
``webapp.inventory.operations`` (the API's own path), and the run form is
checked by the API's ``ContainerRunIn``: a page can ask nothing the API would
refuse, and its errors are the API's, shown next to their fields.
"""

from __future__ import annotations

import json
import shlex
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from webapp.accounts.models import Team
from webapp.errors import SiteError
from webapp.fleet.models import Host
from webapp.inventory import operations
from webapp.inventory.api.requests import ContainerRunIn
from webapp.inventory.api.serializers import ContainerSerializer
from webapp.inventory.choices import ContainerState, Health
from webapp.inventory.models import Container
from webapp.inventory.page_helpers import field_errors
from webapp.jobs.choices import JobKind
from webapp.jobs.models import Job
from webapp.pages import login_required
from webapp.permissions import RUN, VIEW

CONTAINERS_PER_PAGE = 25

#: the actions of the detail page and the list's bulk bar: (form value, job kind, extra params)
ACTIONS: dict[str, tuple[str, dict]] = {
    "start": (JobKind.CONTAINER_START, {}),
    "stop": (JobKind.CONTAINER_STOP, {}),
    "restart": (JobKind.CONTAINER_RESTART, {}),
    "kill": (JobKind.CONTAINER_KILL, {"signal": "KILL"}),
    "pause": (JobKind.CONTAINER_PAUSE, {}),
    "unpause": (JobKind.CONTAINER_UNPAUSE, {}),
    "remove": (JobKind.CONTAINER_REMOVE, {"force": True}),
}
BULK_ACTIONS = ("start", "stop", "remove")


def _filters(request: HttpRequest) -> dict:
    """The list's filters from the query string; an unknown state is no filter."""
    state = request.GET.get("state", "")
    return {
        "host": request.GET.get("host", "").strip(),
        "state": state if state in ContainerState.values else "",
        "q": request.GET.get("q", "").strip()[:128],
    }


def _filtered(request: HttpRequest, query: dict) -> QuerySet:
    containers = Container.objects.for_user(request.user, VIEW).select_related("host", "team")
    if query["host"]:
        containers = containers.filter(host__name=query["host"])
    if query["state"]:
        containers = containers.filter(state=query["state"])
    if query["q"]:
        containers = containers.filter(Q(name__icontains=query["q"]))
    return containers.order_by("host__name", "name", "pk")


def containers_by_state(user: object) -> list[dict]:
    """How many of the user's containers are in each state (the dashboard's summary), one query."""
    counts = (
        Container.objects.for_user(user, VIEW)
        .values("state")
        .annotate(n=Count("pk"))
        .order_by("state")
    )
    return [{"state": row["state"], "n": row["n"]} for row in counts]


#: how many failing containers the dashboard names (the count says how many more there are)
UNHEALTHY_SHOWN = 20


def unhealthy_containers(user: object) -> dict:
    """The user's containers whose health check fails (the dashboard's card): some, and how many."""
    failing = Container.objects.for_user(user, VIEW).filter(health=Health.UNHEALTHY)
    shown = list(
        failing.select_related("host").order_by("host__name", "name", "pk")[:UNHEALTHY_SHOWN]
    )
    total = len(shown) if len(shown) < UNHEALTHY_SHOWN else failing.count()
    return {"containers": shown, "total": total}


def _list_context(request: HttpRequest) -> dict:
    query = _filters(request)
    page = Paginator(_filtered(request, query), CONTAINERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    kept = urlencode({k: v for k, v in query.items() if v})
    return {
        "page": page,
        "query": query,
        "kept": kept,
        "states": ContainerState.choices,
        "hosts": Host.objects.for_user(request.user, VIEW).order_by("name"),
        "may_run": Team.objects.for_user(request.user, RUN).exists(),
        "bulk_actions": BULK_ACTIONS,
    }


@login_required
def container_list(request: HttpRequest) -> HttpResponse:
    """The list; after a bulk action (``?started=JOB,JOB``) it also lists the jobs it started."""
    ids = [i for i in request.GET.get("started", "").split(",") if i.isdigit()][
        :CONTAINERS_PER_PAGE
    ]
    started = Job.objects.for_user(request.user, VIEW).filter(pk__in=ids).order_by("pk")
    return render(request, "containers/list.html", {**_list_context(request), "started": started})


@login_required
def container_table(request: HttpRequest) -> HttpResponse:
    """The table alone, same filters and page: the list polls it so states change live."""
    return render(request, "containers/table.html", _list_context(request))


def _start_action(request: HttpRequest, container: Container, action: str) -> Job:
    """Start ACTION's job on CONTAINER, or raise SiteError (a pending or unmanaged one, a viewer)."""
    kind, extra = ACTIONS[action]
    return operations.act(request.user, container, kind, container=container.engine_id, **extra)


@login_required
@require_POST
def container_bulk(request: HttpRequest) -> HttpResponse:
    """One job per selected container; the page then lists the jobs started (and what failed)."""
    action = request.POST.get("action", "")
    if action not in BULK_ACTIONS:
        messages.error(request, f"no bulk action {action!r}: choose start, stop or remove")
        return redirect("containers")
    ids = [i for i in request.POST.getlist("selected") if i.isdigit()]
    if not ids:
        messages.error(request, "select at least one container first")
        return redirect("containers")
    started = []
    for container in Container.objects.for_user(request.user, VIEW).filter(pk__in=ids[:100]):
        try:
            job = _start_action(request, container, action)
        except SiteError as exc:
            messages.error(request, f"{container.name}: {exc}")
        else:
            started.append((container, job))
    if not started:
        return redirect("containers")
    ids = ",".join(str(job.pk) for _, job in started)
    return redirect(f"{reverse('containers')}?{urlencode({'started': ids})}")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _pairs(text: str) -> dict[str, str]:
    """KEY=VALUE lines as a dict; a line without '=' is a key with an empty value."""
    out = {}
    for line in _lines(text):
        key, _, value = line.partition("=")
        out[key.strip()] = value
    return out


def run_params(form: dict) -> tuple[dict, dict]:
    """The form's text fields as the API's request body, and the errors of text that will not split.

    Empty fields are left out, so the serializer's defaults apply as they do for the API.
    """
    data: dict = {}
    errors: dict[str, list[str]] = {}
    for field in ("image", "name", "network", "restart", "memory", "cpus", "host", "team"):
        if form.get(field, "").strip():
            data[field] = form[field].strip()
    for field, target in (("command", "command"), ("health", "health")):
        text = form.get(field, "").strip()
        if not text:
            continue
        try:
            words = shlex.split(text)
        except ValueError as exc:
            errors[field] = [f"cannot split it into words: {exc}"]
            continue
        data[target] = words if field == "command" else {"command": words}
    for field in ("ports", "volumes"):
        if _lines(form.get(field, "")):
            data[field] = _lines(form[field])
    for field in ("env", "labels"):
        if _lines(form.get(field, "")):
            data[field] = _pairs(form[field])
    return data, errors


#: the run form's text fields: (name, label, help, several lines)
TEXT_FIELDS = (
    ("image", "Image", "e.g. busybox or registry.example/app:1.2", False),
    ("name", "Name", "optional; letters, digits, _ . -", False),
    ("command", "Command", "optional; split like a shell, e.g. sleep 300", False),
    ("env", "Environment", "KEY=VALUE, one per line", True),
    ("ports", "Ports", "one per line, e.g. 8080:80 or 127.0.0.1:5353:53/udp", True),
    ("volumes", "Volumes", "one per line, e.g. data:/var/lib/data", True),
    ("network", "Network", "optional; a network's name (default bridge)", False),
    ("restart", "Restart policy", "no, always, unless-stopped or on-failure[:N]", False),
    ("memory", "Memory limit", "optional, e.g. 64m or 1g", False),
    ("cpus", "CPUs", "optional, e.g. 0.5", False),
    ("labels", "Labels", "KEY=VALUE, one per line", True),
    (
        "health",
        "Health check command",
        "optional; run in the container, e.g. test -f /tmp/ok",
        False,
    ),
)
RUN_FIELDS = [f[0] for f in TEXT_FIELDS] + ["host", "team"]


@login_required
def container_new(request: HttpRequest) -> HttpResponse:
    """The run form: checked by the API's serializer, each error by its field; a job on success."""
    form = {f: "" for f in RUN_FIELDS}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form.update({f: request.POST.get(f, "")[:65536] for f in RUN_FIELDS})
        data, errors = run_params(form)
        # what the form does not offer but a hand-edited one may send: refused by name, as the
        # API refuses it (never dropped, which would run the container without it)
        for key in ContainerRunIn.ADMIN_ONLY:
            if request.POST.get(key):
                data[key] = request.POST[key][:1024]
        if not errors:
            s = ContainerRunIn(data=data, context={"request": request})
            if s.is_valid():
                checked = dict(s.validated_data)
                host, team = checked.pop("host", None), checked.pop("team", None)
                try:
                    container, job = operations.run_container(request.user, host, team, checked)
                except SiteError as exc:
                    field = exc.field if exc.field in RUN_FIELDS else "non_field_errors"
                    errors = field_errors(exc.detail) if exc.detail else {field: [str(exc)]}
                except ValidationError as exc:
                    errors = field_errors(exc.detail)
                else:
                    messages.success(request, f"Started job {job.pk}: run {container.image}.")
                    return redirect("job-page", job_id=job.pk)
            else:
                errors = field_errors(s.errors)
    context = {
        "form": form,
        "fields": [
            {
                "name": n,
                "label": lb,
                "help": h,
                "area": a,
                "value": form[n],
                "errors": errors.get(n),
            }
            for n, lb, h, a in TEXT_FIELDS
        ],
        "errors": errors,
        "other_errors": [e for f, es in errors.items() if f not in RUN_FIELDS for e in es],
        "hosts": Host.objects.for_user(request.user, RUN).order_by("name"),
        "teams": Team.objects.for_user(request.user, RUN).order_by("name"),
    }
    return render(request, "containers/new.html", context, status=400 if errors else 200)


def _mine(request: HttpRequest, container_id: int) -> Container:
    containers = Container.objects.for_user(request.user, VIEW).select_related("host", "team")
    return get_object_or_404(containers, pk=container_id)


@login_required
def container_detail(request: HttpRequest, container_id: int) -> HttpResponse:
    container = _mine(request, container_id)
    context = {
        "c": container,
        "inspect": json.dumps(ContainerSerializer(container).data, indent=2, default=str),
        "actions": list(ACTIONS),
        "may_run": Team.objects.for_user(request.user, RUN).filter(pk=container.team_id).exists(),
    }
    partial = request.headers.get("HX-Request") == "true"
    response = render(request, f"containers/{'state' if partial else 'detail'}.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_POST
def container_action(request: HttpRequest, container_id: int, action: str) -> HttpResponse:
    container = _mine(request, container_id)
    if action not in ACTIONS:
        raise Http404(f"no action {action}")
    try:
        job = _start_action(request, container, action)
    except SiteError as exc:
        messages.error(request, str(exc))
        return redirect("container-page", container_id=container.pk)
    messages.success(request, f"Started job {job.pk}: {action} {container.name}.")
    if action == "remove":
        return redirect("job-page", job_id=job.pk)
    return redirect("container-page", container_id=container.pk)
