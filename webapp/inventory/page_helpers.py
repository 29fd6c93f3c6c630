"""What the images, volumes and networks pages share: one filtered page of a list, a form
checked by the API's own serializer and turned into a job, and one object of the user's teams.

The lists read the API's filters (``webapp.inventory.api.filters``); a form is
the API's request serializer (``webapp.inventory.api.requests``) and a job
started by ``webapp.inventory.operations``, so a page can do nothing the API
would refuse, and says why in the API's words, next to the field at fault.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Model
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError

from webapp.accounts.models import Team
from webapp.errors import SiteError
from webapp.fleet.models import Host
from webapp.inventory import operations
from webapp.inventory.api.filters import filter_objects
from webapp.jobs.models import Job
from webapp.permissions import RUN, VIEW, is_fleet_admin

PER_PAGE = 25


def field_errors(detail: object) -> dict[str, list[str]]:
    """DRF's nested errors flattened to one list of lines per form field."""

    def flat(node: object) -> list[str]:
        if isinstance(node, dict):
            return [line for value in node.values() for line in flat(value)]
        if isinstance(node, list):
            return [line for value in node for line in flat(value)]
        return [str(node)]

    if isinstance(detail, dict):
        return {field: flat(value) for field, value in detail.items()}
    return {"non_field_errors": flat(detail)}


def list_context(request: HttpRequest, model: type[Model], per_page: int = PER_PAGE) -> dict:
    """One page of MODEL's objects of the user's teams, filtered by ``?host=`` and ``?q=``."""
    query = {
        "host": request.GET.get("host", "").strip()[:200],
        "q": request.GET.get("q", "").strip()[:128],
    }
    objects = model.objects.for_user(request.user, VIEW).select_related("host", "team")
    checked = {"host": query["host"]} if query["host"] else {}
    if query["q"]:
        checked["name"] = query["q"]
    objects = filter_objects(objects, checked).order_by("host__name", "name", "pk")
    page = Paginator(objects, per_page).get_page(request.GET.get("page"))
    return {
        "page": page,
        "query": query,
        "kept": urlencode({k: v for k, v in query.items() if v}),
        "hosts": Host.objects.for_user(request.user, VIEW).order_by("name"),
        "run_hosts": Host.objects.for_user(request.user, RUN).order_by("name"),
        "teams": Team.objects.for_user(request.user, RUN).order_by("name"),
        "may_run": Team.objects.for_user(request.user, RUN).exists(),
        "fleet_admin": is_fleet_admin(request.user),
    }


def start_from_form(
    request: HttpRequest, serializer_class: type, kind: str, data: dict
) -> tuple[Job | None, dict[str, list[str]]]:
    """Check DATA with the API's SERIALIZER_CLASS, then start KIND's job on its host.

    Returns the job, or None and the errors by field (the serializer's, or the
    job check's: a host not granted, a viewer, a cordoned host).
    """
    s = serializer_class(data=data, context={"request": request})
    if not s.is_valid():
        return None, field_errors(s.errors)
    checked = dict(s.validated_data)
    host, team = checked.pop("host"), checked.pop("team", None)
    try:
        return operations.start_job(request.user, kind, host, team, checked), {}
    except SiteError as exc:
        if exc.detail:
            return None, field_errors(exc.detail)
        return None, {exc.field or "non_field_errors": [str(exc)]}
    except ValidationError as exc:
        return None, field_errors(exc.detail)


def mine(request: HttpRequest, model: type[Model], pk: int) -> Model:
    """The object if one of the user's teams may see it; another team's is a 404 like a missing one."""
    objects = model.objects.for_user(request.user, VIEW).select_related("host", "team")
    return get_object_or_404(objects, pk=pk)


def may_run(request: HttpRequest, obj: Model) -> bool:
    return (
        obj.team_id is not None
        and Team.objects.for_user(request.user, RUN).filter(pk=obj.team_id).exists()
    )


def error_lines(errors: dict[str, list[str]], known: tuple[str, ...]) -> list[str]:
    """Errors of fields the form does not show, to print above it."""
    return [f"{e}" for f, es in errors.items() if f not in known for e in es]


def read_job(request: HttpRequest, job_id: int, kind: str, **params: object) -> Job:
    """A read job (history, files) of the user's teams, of KIND, about the object named by PARAMS.

    Anything else — another team's job, another kind, another object's — is a 404.
    """
    job = get_object_or_404(Job.objects.for_user(request.user, VIEW), pk=job_id, kind=kind)
    if any(job.params.get(key) != value for key, value in params.items()):
        raise Http404("that job read something else")
    return job
