"""Refuse NUL bytes in a request's path and query before any view looks them up.

PostgreSQL's text holds no NUL: a lookup with one (``/hosts/%00/``, a page's
``?host=%00``) fails in the driver, a server error on every page and API
route that takes a name. Nothing stored can hold one, so a path with a NUL is
a 404 like any missing name, and a query parameter with one a 400 naming the
parameter (the API's fields refuse NUL in bodies the same way,
``webapp.api.fields``). The lists' socket checks its own query
(``webapp.inventory.consumers``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

NUL_MESSAGE = "Null characters are not allowed."


def has_nul(*values: str) -> bool:
    """Whether any of VALUES holds a NUL byte."""
    return any("\x00" in value for value in values)


class NulBytesMiddleware:
    """A path with a NUL is not found; a query parameter with one is a 400 naming it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_nul(request.path_info):
            raise Http404("no such page")
        for name, values in request.GET.lists():
            if has_nul(name, *values):
                if request.path_info.startswith("/api/"):
                    return JsonResponse({name: [NUL_MESSAGE]}, status=400)
                return HttpResponse(f"{name}: {NUL_MESSAGE}", status=400, content_type="text/plain")
        return self.get_response(request)
