"""The hosts pages: the hosts my teams may use (facts, heartbeat, load, free disk) and one
host with its containers; fleet admins drain, cordon and uncordon from here as in the admin."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from webapp.errors import Forbidden, SiteError
from webapp.fleet.models import Host
from webapp.fleet.services import ACTIONS, set_admin_state
from webapp.inventory.models import Container
from webapp.pages import login_required
from webapp.permissions import VIEW, is_fleet_admin


@login_required
def host_list(request: HttpRequest) -> HttpResponse:
    visible = Container.objects.for_user(request.user, VIEW)
    hosts = Host.objects.for_user(request.user, VIEW).order_by("name")
    # one query for every host's count of my running containers (no query per row)
    counts = dict(
        visible.filter(state="running").values_list("host").annotate(n=Count("pk")).order_by()
    )
    rows = [(h, counts.get(h.pk, 0)) for h in hosts]
    return render(
        request,
        "fleet/list.html",
        {"rows": rows, "admin": is_fleet_admin(request.user)},
    )


@login_required
def host_detail(request: HttpRequest, host_name: str) -> HttpResponse:
    host = get_object_or_404(Host.objects.for_user(request.user, VIEW), name=host_name)
    containers = (
        Container.objects.for_user(request.user, VIEW)
        .filter(host=host)
        .select_related("team")
        .order_by("name")
    )
    context = {
        "host": host,
        "containers": containers,
        "admin": is_fleet_admin(request.user),
        "holds": list(ACTIONS),
        "events": host.events.all()[:10] if is_fleet_admin(request.user) else [],
    }
    return render(request, "fleet/detail.html", context)


@login_required
@require_POST
def host_hold(request: HttpRequest, host_name: str, hold: str) -> HttpResponse:
    """Drain, cordon or uncordon: fleet admins only (others get the reason, nothing changes)."""
    host = get_object_or_404(Host.objects.for_user(request.user, VIEW), name=host_name)
    if hold not in ACTIONS:
        raise Http404(f"no such change {hold}")
    try:
        if not is_fleet_admin(request.user):
            raise Forbidden("only fleet admins may drain, cordon or uncordon a host")
        set_admin_state(host, hold, request.user)
    except SiteError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{host.name}: {hold} done, it is {ACTIONS[hold]} now.")
    return redirect("host-page", host_name=host.name)
