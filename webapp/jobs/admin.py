from django.contrib import admin

from webapp.jobs.models import Job, JobLine


class JobLineInline(admin.TabularInline):
    model = JobLine
    extra = 0
    can_delete = False
    readonly_fields = ["seq", "stream", "text", "created"]


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "host", "team", "requester", "state", "created", "finished"]
    list_filter = ["state", "kind", "host"]
    readonly_fields = ["started", "finished", "result", "error", "last_seq"]
    inlines = [JobLineInline]
