"""The grammar of a host's name, checked before a host is ever stored.

A host's name ends up in URLs (``/hosts/NAME/check/``), in its Celery queue
(``host.NAME``) and on every page that lists the fleet; one name with a ``/``
or an empty one used to make the dashboard fail for every user. So a name is a
DNS-label-like word, and anything else is refused at registration.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

HOST_NAME_MAX = 63
_HOST_NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{HOST_NAME_MAX - 1}}}")
HOST_NAME_RULE = (
    f"1 to {HOST_NAME_MAX} letters, digits, '.', '-' or '_', starting with a letter or digit"
)


class InvalidHostName(ValidationError):
    """A refused host name; ``str()`` is the one-line reason (for logs of the worker that beats)."""

    def __str__(self) -> str:
        return self.messages[0]


def validate_host_name(name: object) -> None:
    """Raise ``InvalidHostName`` (one line naming the value and the rule) unless NAME is valid.

    Also the model field's validator, so admin forms show the same message.
    """
    if not isinstance(name, str) or not _HOST_NAME.fullmatch(name):
        shown = repr(name) if len(repr(name)) <= 80 else repr(name)[:77] + "..."
        raise InvalidHostName(
            f"host name {shown} is not valid: use {HOST_NAME_RULE}", code="invalid_host_name"
        )
