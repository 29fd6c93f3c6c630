"""The sign-in page: Django's, with the throttle's message and a 429 when sign-in is paused."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.forms import Form
from django.http import HttpResponse

from webapp.accounts.forms import SignInForm


class SignInView(LoginView):
    authentication_form = SignInForm

    def form_invalid(self, form: Form) -> HttpResponse:
        """Answer a throttled attempt 429 with Retry-After, so scripts see it is not a typo."""
        response = super().form_invalid(form)
        if form.has_error("__all__", "throttled"):
            response.status_code = 429
            response["Retry-After"] = str(settings.WHARF_SIGNIN_WINDOW_SECONDS)
        return response
