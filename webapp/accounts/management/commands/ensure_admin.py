"""Create the ``admin`` account and its team once; print a generated password once."""

from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from webapp.accounts.choices import Role
from webapp.accounts.models import Membership, Team


class Command(BaseCommand):
    help = "Create the admin user (password from WHARF_ADMIN_PASSWORD or generated) if missing."

    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
        team, _ = Team.objects.get_or_create(slug="admins", defaults={"name": "Admins"})
        user = User.objects.filter(username="admin").first()
        wanted = os.environ.get("WHARF_ADMIN_PASSWORD")
        if user is None:
            password = wanted or secrets.token_urlsafe(12)
            user = User.objects.create_superuser("admin", "", password)
            if wanted:
                self.stdout.write(
                    "admin account created with the password from WHARF_ADMIN_PASSWORD"
                )
            else:
                self.stdout.write(f"admin account created; password: {password}  (shown once)")
        elif wanted and not user.check_password(wanted):
            user.set_password(wanted)
            user.save(update_fields=["password"])
            self.stdout.write("admin password set from WHARF_ADMIN_PASSWORD")
        Membership.objects.get_or_create(user=user, team=team, defaults={"role": Role.ADMIN})
