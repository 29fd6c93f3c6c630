"""Jobs in the admin: read-only records with their output (change them through the site)."""

from django.contrib import admin

from webapp.admin_readonly import ReadOnlyModelAdmin, ReadOnlyTabularInline
from webapp.jobs.models import Job, JobLine


class JobLineInline(ReadOnlyTabularInline):
    model = JobLine
    fields = ["seq", "stream", "text", "created"]
    readonly_fields = fields
    ordering = ["seq"]


@admin.register(Job)
class JobAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "kind", "host", "team", "requester", "state", "created", "finished"]
    list_filter = ["state", "kind", "host"]
    list_select_related = ["host", "team", "requester"]
    search_fields = ["id", "host__name", "team__slug", "requester__username", "error"]
    inlines = [JobLineInline]


@admin.register(JobLine)
class JobLineAdmin(ReadOnlyModelAdmin):
    list_display = ["__str__", "stream", "text", "created"]
    list_select_related = ["job"]
    search_fields = ["text"]
