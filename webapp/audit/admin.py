"""The audit log in the admin: listed, filtered and read; never added, changed or deleted."""

from django.contrib import admin
from django.utils.html import format_html

from webapp.admin_readonly import ReadOnlyModelAdmin
from webapp.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyModelAdmin):
    list_display = [
        "time",
        "actor_name",
        "action",
        "object_type",
        "object_repr",
        "team_name",
        "address",
    ]
    list_filter = ["action", "object_type", "team_name"]
    search_fields = ["actor_name", "action", "object_repr", "object_id", "team_name"]
    date_hierarchy = "time"
    fields = [
        "time",
        "actor_name",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "team_name",
        "address",
        "before_json",
        "after_json",
    ]
    readonly_fields = fields

    @admin.display(description="before")
    def before_json(self, entry: AuditEntry) -> str:
        return _json(entry.before)

    @admin.display(description="after")
    def after_json(self, entry: AuditEntry) -> str:
        return _json(entry.after)


def _json(value: object) -> str:
    import json

    if value is None:
        return "—"
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True))
