from django.contrib import admin

from webapp.fleet.choices import HostState
from webapp.fleet.models import Host


@admin.register(Host)
class HostAdmin(admin.ModelAdmin):
    list_display = ["name", "state", "last_heartbeat", "registered"]
    list_filter = ["state"]
    readonly_fields = ["facts", "last_heartbeat", "registered"]
    actions = ["drain", "cordon", "uncordon"]

    @admin.action(description="Drain: finish running jobs, accept no new ones")
    def drain(self, request, queryset):
        queryset.update(state=HostState.DRAINING)

    @admin.action(description="Cordon: accept no new jobs")
    def cordon(self, request, queryset):
        queryset.update(state=HostState.CORDONED)

    @admin.action(description="Uncordon: accept jobs again")
    def uncordon(self, request, queryset):
        queryset.update(state=HostState.ONLINE)
