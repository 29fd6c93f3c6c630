"""The audit log's page: the API's list and filters, one page at a time, read-only."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.exceptions import ValidationError

from webapp.audit.api.filters import AuditQuery, filter_entries, read_query
from webapp.audit.models import AuditEntry
from webapp.audit.services import check_may_read
from webapp.errors import Forbidden
from webapp.pages import login_required

ENTRIES_PER_PAGE = 50


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    try:
        check_may_read(request.user)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from None
    errors: dict = {}
    try:
        query = read_query(request.GET)
    except ValidationError as exc:
        query, errors = {}, exc.detail
    entries = filter_entries(AuditEntry.objects.for_user(request.user), query)
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    filters = [
        (name, field.help_text or "", request.GET.get(name, ""), (errors.get(name) or [""])[0])
        for name, field in AuditQuery().fields.items()
    ]
    keep = urlencode({n: v for n, _h, v, _e in filters if v})
    return render(
        request,
        "audit/list.html",
        {"page": page, "filters": filters, "errors": errors, "keep": keep},
    )
