"""Admin pages that show records and never change them: jobs, their lines, host events, tokens.

What the site recorded (a job's kind, host, requester, state and output; what
a host did; a token's digest) is evidence, not a form: staff read it here and
change things only through actions that go through the services and are logged.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """No add, no change, no delete: the admin shows the record and its history."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


class ReadOnlyTabularInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
