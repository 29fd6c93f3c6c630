"""What every page shares: signing in again without losing the page, and the CSRF failure page.

A page's htmx request (the hosts table's poll, the jobs table's) made after
the session ended must not get the sign-in form swapped into the dashboard:
it gets a 401 with ``HX-Redirect`` to the sign-in page, whose ``next`` is the
page the person is on, so htmx takes the whole tab there and back. A form
posted from a stale tab fails Django's CSRF check; ``csrf_failure`` explains
that and links back to the page it came from (or to sign in again).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

View = Callable[..., HttpResponse]


def _same_site_path(request: HttpRequest, url: str) -> str | None:
    """The path and query of URL if it points at this site, else None."""
    if not url or not url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def login_url(next_path: str) -> str:
    return f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': next_path})}"


def login_required(view: View) -> View:
    """Django's login_required, but an htmx request gets 401 + HX-Redirect to sign in.

    ``next`` is the page the tab shows (htmx's ``HX-Current-URL``), not the
    fragment it polled, so signing in brings the person back to that page.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.headers.get("HX-Request") == "true":
            page = _same_site_path(request, request.headers.get("HX-Current-URL", ""))
            response = HttpResponse("sign in again", status=401, content_type="text/plain")
            response["HX-Redirect"] = login_url(page or resolve_url("dashboard"))
            return response
        return redirect_to_login(request.get_full_path())

    return wrapper


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form (an old tab, a session that ended): say so and lead back (CSRF_FAILURE_VIEW)."""
    back = _same_site_path(request, request.headers.get("Referer", "")) or resolve_url("dashboard")
    signed_in = request.user.is_authenticated
    context = {
        "back": back,
        "signed_in": signed_in,
        "login": login_url(back),
        "reason": reason if settings.DEBUG else "",
    }
    return render(request, "403_csrf.html", context, status=403)
