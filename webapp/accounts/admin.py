from django.contrib import admin

from webapp.accounts.forms import AdminSignInForm
from webapp.accounts.models import Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


# The admin's own sign-in page says so too when sign-in is paused (see webapp.accounts.throttle).
admin.site.login_form = AdminSignInForm
