"""The inventory in the admin: read-only records, and "adopt into team" for unmanaged objects.

What a host reported is evidence, not a form; the one change an admin makes
here is giving an object to a team (``services.adopt``), chosen next to the
action in the list.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest

from webapp.accounts.models import Team
from webapp.admin_readonly import ReadOnlyModelAdmin
from webapp.inventory import services
from webapp.inventory.models import Container, Image, InventoryCursor, Network, Volume


class AdoptForm(ActionForm):
    team = forms.ModelChoiceField(Team.objects.all(), required=False, label="team")


class HostObjectAdmin(ReadOnlyModelAdmin):
    action_form = AdoptForm
    actions = ["adopt"]
    list_filter = ["host", "team"]
    search_fields = ["engine_id", "name"]

    @admin.action(description="Adopt into the team chosen above")
    def adopt(self, request: HttpRequest, objects: QuerySet) -> None:
        team = Team.objects.filter(pk=request.POST.get("team") or None).first()
        if team is None:
            self.message_user(request, "Choose the team to adopt them into.", level="error")
            return
        for obj in objects:
            services.adopt(obj, team, request.user)
        self.message_user(request, f"Adopted {len(objects)} into {team}.")


@admin.register(Container)
class ContainerAdmin(HostObjectAdmin):
    list_display = ["name", "host", "team", "state", "image", "health", "updated"]
    list_filter = ["host", "team", "state"]


@admin.register(Image)
class ImageAdmin(HostObjectAdmin):
    list_display = ["name", "engine_id", "host", "team", "size", "created"]


@admin.register(Volume)
class VolumeAdmin(HostObjectAdmin):
    list_display = ["name", "host", "team", "driver", "created"]


@admin.register(Network)
class NetworkAdmin(HostObjectAdmin):
    list_display = ["name", "host", "team", "driver", "subnet", "created"]


@admin.register(InventoryCursor)
class InventoryCursorAdmin(ReadOnlyModelAdmin):
    list_display = ["host", "cursor", "reconciled"]
