"""The password backend, throttled: every path that checks a password goes through here.

The sign-in page, the admin's sign-in and any later API path that calls
``django.contrib.auth.authenticate`` all reach this backend, so none of them can
be used to guess faster than ``webapp.accounts.throttle`` allows.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from webapp.accounts import throttle

#: Set on the request when a sign-in was refused by the throttle, so forms can say so.
THROTTLED_ATTR = "wharf_signin_throttled"


class SignInThrottled(PermissionDenied):
    """Too many failed sign-ins; ``authenticate()`` stops at it and tries no other backend."""


class ThrottledModelBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Check the password as ModelBackend does, within the account's and address's limits."""
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        address = throttle.address_of(request)
        if not throttle.begin(username, address):
            if request is not None:
                setattr(request, THROTTLED_ATTR, True)
            raise SignInThrottled("too many failed sign-ins")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            throttle.succeeded(username, address)
        return user
