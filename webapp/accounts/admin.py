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
