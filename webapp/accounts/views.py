"""The sign-in page (Django's, with the throttle's message and a 429 when sign-in is paused)
and the profile page: my teams and roles, and my API tokens (made, shown once, revoked)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import LoginView
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from webapp.accounts.forms import SignInForm
from webapp.accounts.tokens import ApiToken
from webapp.pages import login_required


class SignInView(LoginView):
    authentication_form = SignInForm

    def form_invalid(self, form: Form) -> HttpResponse:
        """Answer a throttled attempt 429 with Retry-After, so scripts see it is not a typo."""
        response = super().form_invalid(form)
        if form.has_error("__all__", "throttled"):
            response.status_code = 429
            response["Retry-After"] = str(settings.WHARF_SIGNIN_WINDOW_SECONDS)
        return response


#: how long a new token may live at most, in days (none: until revoked)
TOKEN_DAYS_MAX = 3650


def _profile(
    request: HttpRequest, form: dict, errors: dict, new_token: str = "", status: int = 200
):
    context = {
        "tokens": ApiToken.objects.filter(user=request.user).order_by("-created"),
        "memberships": request.user.memberships.select_related("team").order_by("team__name"),
        "form": form,
        "errors": errors,
        "new_token": new_token,
    }
    return render(request, "accounts/profile.html", context, status=status)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """Who I am, my teams and roles, and my API tokens."""
    return _profile(request, {"name": "", "days": ""}, {})


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """Make a token and show its text on this answer only: it is stored hashed, never again shown."""
    form = {
        "name": request.POST.get("name", "").strip(),
        "days": request.POST.get("days", "").strip(),
    }
    errors: dict[str, list[str]] = {}
    if len(form["name"]) > 100:
        errors["name"] = ["at most 100 characters"]
    days = None
    if form["days"]:
        if not form["days"].isdigit() or not 1 <= int(form["days"]) <= TOKEN_DAYS_MAX:
            errors["days"] = [f"a whole number of days from 1 to {TOKEN_DAYS_MAX}, or empty"]
        else:
            days = int(form["days"])
    if errors:
        return _profile(request, form, errors, status=400)
    _token, text = ApiToken.issue(request.user, form["name"], days)
    response = _profile(request, {"name": "", "days": ""}, {}, new_token=text)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Delete one of my tokens (another person's is a 404): it stops working at once."""
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    token.delete()
    messages.success(request, f"Revoked token {token.name or token_id}.")
    return redirect("profile")
