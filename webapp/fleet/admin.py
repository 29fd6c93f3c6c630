"""Hosts in the admin: facts as a table, and actions that are logged as host events.

Drain, cordon and uncordon change a host's state; revoke takes its credential
away (``webapp.fleet.credentials.revoke``); each leaves a ``HostEvent`` naming
the admin. Enrolment tokens are issued here (shown once, in a message) and
then only listed: their digests never appear. Events are read-only records.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from webapp.admin_readonly import ReadOnlyModelAdmin, ReadOnlyTabularInline
from webapp.errors import SiteError
from webapp.fleet import credentials
from webapp.fleet.models import EnrollmentToken, Host, HostEvent, HostGrant, HostPool
from webapp.fleet.names import InvalidHostName
from webapp.fleet.services import set_admin_state


def facts_table(facts: dict) -> str:
    """A host's facts as a two-column HTML table (nested values as compact text)."""
    if not facts:
        return "—"
    rows = format_html_join(
        "",
        "<tr><th>{}</th><td>{}</td></tr>",
        ((key, _fact_text(value)) for key, value in sorted(facts.items())),
    )
    return format_html('<table class="host-facts">{}</table>', rows)


def _fact_text(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_fact_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_fact_text(v) for v in value)
    return str(value)


class HostEventInline(ReadOnlyTabularInline):
    model = HostEvent
    fields = ["time", "kind", "detail"]
    readonly_fields = fields
    max_num = 0


@admin.register(Host)
class HostAdmin(admin.ModelAdmin):
    list_display = ["name", "state", "last_heartbeat", "enrolled", "registered"]
    list_filter = ["state"]
    search_fields = ["name"]
    fields = ["name", "state", "facts_table", "last_heartbeat", "registered", "credential_issued"]
    readonly_fields = [
        "name",
        "state",
        "facts_table",
        "last_heartbeat",
        "registered",
        "credential_issued",
    ]
    actions = ["drain", "cordon", "uncordon", "revoke_credential", "issue_token"]
    inlines = [HostEventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # hosts enrol themselves with a token

    @admin.display(description="facts")
    def facts_table(self, host: Host) -> str:
        return facts_table(host.facts)

    @admin.display(boolean=True, description="credential")
    def enrolled(self, host: Host) -> bool:
        return bool(host.credential_hash)

    def _set_state(self, request: HttpRequest, hosts: QuerySet, action: str) -> None:
        for host in hosts:
            set_admin_state(host, action, request.user)
        self.message_user(request, f"{action.capitalize()}ed: {', '.join(h.name for h in hosts)}.")

    @admin.action(description="Drain: finish running jobs, accept no new ones")
    def drain(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_state(request, queryset, "drain")

    @admin.action(description="Cordon: accept no new jobs")
    def cordon(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_state(request, queryset, "cordon")

    @admin.action(description="Uncordon: accept jobs again")
    def uncordon(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_state(request, queryset, "uncordon")

    @admin.action(description="Revoke the credential: the host's worker can do nothing more")
    def revoke_credential(self, request: HttpRequest, queryset: QuerySet) -> None:
        for host in queryset:
            try:
                credentials.revoke(host, request.user)
            except SiteError as exc:
                self.message_user(request, str(exc), messages.WARNING)
            else:
                self.message_user(request, f"Revoked the credential of {host.name}.")

    @admin.action(description="Issue an enrolment token naming the host (to enrol it again)")
    def issue_token(self, request: HttpRequest, queryset: QuerySet) -> None:
        for host in queryset:
            token = credentials.issue_enrollment_token(host.name, user=request.user)
            HostEvent.objects.create(
                host=host, kind="token_issued", detail=f"enrolment token by {request.user}"
            )
            _show_token_once(request, host.name, token)


def _show_token_once(request: HttpRequest, host_name: str, token: str) -> None:
    messages.warning(
        request,
        f"Enrolment token for {host_name or 'any new host'} (shown only now, valid for an hour): "
        f"{token}",
    )


class IssueTokenForm(forms.Form):
    host_name = forms.CharField(
        max_length=63, required=False, help_text="only a host of this name may use it (blank: any)"
    )
    minutes = forms.IntegerField(min_value=1, max_value=7 * 24 * 60, initial=60)


@admin.register(EnrollmentToken)
class EnrollmentTokenAdmin(ReadOnlyModelAdmin):
    """Tokens are listed, never shown: "add" issues one and shows its text once."""

    list_display = ["__str__", "host_name", "created", "expires", "used", "used_by", "created_by"]
    fields = ["host_name", "created", "expires", "used", "used_by", "created_by"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_superuser or request.user.has_perm("fleet.add_enrollmenttoken")

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        form = IssueTokenForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            name = form.cleaned_data["host_name"]
            try:
                token = credentials.issue_enrollment_token(
                    name, timedelta(minutes=form.cleaned_data["minutes"]), user=request.user
                )
            except InvalidHostName as exc:
                form.add_error("host_name", exc.messages)
            else:
                _show_token_once(request, name, token)
                return HttpResponseRedirect(reverse("admin:fleet_enrollmenttoken_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Issue an enrolment token",
            "form": form,
            "opts": self.model._meta,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/fleet/issue_token.html", context)


@admin.register(HostEvent)
class HostEventAdmin(ReadOnlyModelAdmin):
    list_display = ["time", "host", "kind", "detail"]
    list_filter = ["kind"]
    list_select_related = ["host"]
    search_fields = ["host__name", "detail"]


@admin.register(HostGrant)
class HostGrantAdmin(admin.ModelAdmin):
    list_display = ["team", "host", "created"]
    list_filter = ["team"]
    autocomplete_fields = ["host"]


@admin.register(HostPool)
class HostPoolAdmin(admin.ModelAdmin):
    list_display = ["name"]
    filter_horizontal = ["hosts", "teams"]
