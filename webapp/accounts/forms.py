"""Sign-in forms that say plainly when sign-in is paused, instead of "wrong password"."""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from webapp.accounts.backends import THROTTLED_ATTR

THROTTLED_MESSAGE = (
    "Too many failed sign-ins for this account or from your address: "
    "sign-in is paused for up to %(minutes)d minutes. Try again later."
)


class ThrottleMessageMixin:
    """Turn the backend's throttle refusal into a form error with code ``throttled``."""

    def get_invalid_login_error(self) -> ValidationError:
        if getattr(self.request, THROTTLED_ATTR, False):
            minutes = -(-settings.WHARF_SIGNIN_WINDOW_SECONDS // 60)
            return ValidationError(THROTTLED_MESSAGE, code="throttled", params={"minutes": minutes})
        return super().get_invalid_login_error()


class SignInForm(ThrottleMessageMixin, AuthenticationForm):
    pass


class AdminSignInForm(ThrottleMessageMixin, AdminAuthenticationForm):
    pass
