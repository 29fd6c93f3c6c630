"""Teams, memberships and API tokens in the admin (a token's digest never appears in full)."""

from django.contrib import admin

from webapp.accounts.forms import AdminSignInForm
from webapp.accounts.models import Membership, Quota, Team
from webapp.accounts.tokens import ApiToken
from webapp.fleet.models import HostGrant


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1


class QuotaInline(admin.StackedInline):
    model = Quota
    max_num = 1
    can_delete = False


class HostGrantInline(admin.TabularInline):
    model = HostGrant
    extra = 1
    autocomplete_fields = ["host"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline, QuotaInline, HostGrantInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Who is in which team, as what: listed by names, filtered by team and role."""

    list_display = ["user", "team", "role"]
    list_filter = ["role", "team"]
    list_select_related = ["user", "team"]
    search_fields = ["user__username", "team__name"]
    autocomplete_fields = ["user"]


@admin.register(Quota)
class QuotaAdmin(admin.ModelAdmin):
    """Each team's limits beside what it uses now (``webapp.accounts.quotas.in_use``)."""

    list_display = ["team", "containers", "cpus", "memory_size", "storage_size", "use"]
    list_select_related = ["team"]
    search_fields = ["team__name"]

    @admin.display(description="memory")
    def memory_size(self, quota: Quota) -> str:
        return _size_or_none(quota.memory)

    @admin.display(description="storage")
    def storage_size(self, quota: Quota) -> str:
        return _size_or_none(quota.storage)

    @admin.display(description="in use")
    def use(self, quota: Quota) -> str:
        from webapp.accounts.quotas import in_use

        used = in_use(quota.team)
        return (
            f"{used['containers']:g} containers, {used['cpus']:g} CPUs, "
            f"{_size_or_none(used['memory'])} memory, {_size_or_none(used['storage'])} storage"
        )


def _size_or_none(n: float | None) -> str:
    from webapp.accounts.quotas import size_text

    return size_text(n) if n else "—"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Listed and revocable (delete); made with ``manage.py tokens create USER``, shown once there."""

    list_display = ["name", "user", "created", "expires", "last_used"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username"]
    fields = ["name", "user", "digest_start", "created", "expires", "last_used"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="digest (start)")
    def digest_start(self, token: ApiToken) -> str:
        return f"{token.digest[:8]}…"


# The admin's own sign-in page says so too when sign-in is paused (see webapp.accounts.throttle).
admin.site.login_form = AdminSignInForm
