"""The registries pages: my teams' and the fleet-wide registries; add, change, remove.

Each change goes through the API's serializer (the fields' checks) and then
``webapp.registries.services`` (who may, the host's grammar, a name taken), so
a page refuses what the API refuses, in its words, field by field. The
credentials are write-only as in the API: the pages never put them back in a
form; a change that leaves them blank keeps what is stored. The audit log is
written by the model's signals (``webapp.audit.signals``), for every path.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from webapp.accounts.models import Team
from webapp.errors import SiteError
from webapp.inventory.page_helpers import field_errors
from webapp.pages import login_required
from webapp.permissions import RUN, VIEW, is_fleet_admin
from webapp.registries import services
from webapp.registries.api.serializers import RegistrySerializer
from webapp.registries.models import Registry

#: the team choice that means "fleet-wide" (fleet admins only; the service says so to others)
FLEET_WIDE = ""


def _may_change(user: object, registry: Registry) -> bool:
    try:
        services.check_change(user, registry)
    except SiteError:
        return False
    return True


def _credentials(request: HttpRequest) -> dict:
    """The credentials the form gave: blank fields are left out (kept), unless told to forget."""
    if request.POST.get("forget") == "1":
        return {"username": "", "password": ""}
    given = {k: request.POST.get(k, "") for k in ("username", "password")}
    return {k: v for k, v in given.items() if v}


def _save(
    request: HttpRequest, registry: Registry | None, data: dict
) -> tuple[Registry | None, dict, int]:
    """Check DATA as the API does, then save; the registry, or None with errors by field."""
    s = RegistrySerializer(
        registry, data=data, partial=registry is not None, context={"request": request}
    )
    if not s.is_valid():
        return None, field_errors(s.errors), 400
    values = dict(s.validated_data)
    if registry is None and "team" not in values:
        values["team"] = services.DEFAULT
    try:
        return services.save_registry(request.user, registry, **values), {}, 200
    except SiteError as exc:
        return None, {exc.field or "other": [str(exc)]}, exc.status


def _list_page(
    request: HttpRequest, form: dict | None = None, errors: dict | None = None, status: int = 200
) -> HttpResponse:
    teams = Team.objects.for_user(request.user, RUN).order_by("name")
    context = {
        "registries": Registry.objects.for_user(request.user, VIEW).select_related("team"),
        "teams": teams,
        "fleet_admin": is_fleet_admin(request.user),
        "may_add": is_fleet_admin(request.user) or teams.exists(),
        "form": form or {"name": "", "host": "", "team": teams[0].slug if teams else ""},
        "errors": errors or {},
    }
    return render(request, "registries/list.html", context, status=status)


@login_required
def registry_list(request: HttpRequest) -> HttpResponse:
    """The registries my teams may use (theirs and the fleet-wide ones), and a form to add one."""
    return _list_page(request)


@login_required
@require_POST
def registry_add(request: HttpRequest) -> HttpResponse:
    form = {k: request.POST.get(k, "").strip()[:300] for k in ("name", "host", "team")}
    data = {"name": form["name"], "host": form["host"], **_credentials(request)}
    if "team" in request.POST:
        data["team"] = None if form["team"] == FLEET_WIDE else form["team"]
    registry, errors, status = _save(request, None, data)
    if registry is None:
        return _list_page(request, form, errors, status)
    messages.success(request, f"Added registry {registry.name} ({registry.host}).")
    return redirect("registries")


@login_required
def registry_detail(request: HttpRequest, registry_id: int) -> HttpResponse:
    """One registry; those who may change it get its form (credentials blank: never shown)."""
    registry = get_object_or_404(
        Registry.objects.for_user(request.user, VIEW).select_related("team"), pk=registry_id
    )
    form, errors, status = {"name": registry.name, "host": registry.host}, {}, 200
    if request.method == "POST":
        form = {k: request.POST.get(k, "").strip()[:300] for k in ("name", "host")}
        saved, errors, status = _save(request, registry, {**form, **_credentials(request)})
        if saved is not None:
            messages.success(request, f"Saved registry {saved.name}.")
            return redirect("registry-page", registry_id=saved.pk)
        registry.refresh_from_db()  # the failed save may have changed the object in memory
    context = {
        "registry": registry,
        "may_change": _may_change(request.user, registry),
        "form": form,
        "errors": errors,
    }
    return render(request, "registries/detail.html", context, status=status)


@login_required
@require_POST
def registry_remove(request: HttpRequest, registry_id: int) -> HttpResponse:
    registry = get_object_or_404(Registry.objects.for_user(request.user, VIEW), pk=registry_id)
    try:
        services.remove_registry(request.user, registry)
    except SiteError as exc:
        messages.error(request, str(exc))
        return redirect("registry-page", registry_id=registry.pk)
    messages.success(request, f"Removed registry {registry.name}.")
    return redirect("registries")
