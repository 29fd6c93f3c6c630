"""``manage.py tokens create USER [--expires DAYS] [--name NAME]`` prints a new API token once."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.accounts.tokens import ApiToken


class Command(BaseCommand):
    help = "Make (create) or list (list) API tokens; a new token is printed once."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="make a token for USER and print it once")
        create.add_argument("user")
        create.add_argument("--expires", type=int, metavar="DAYS", help="valid for DAYS days")
        create.add_argument("--name", default="", help="what the token is for")
        listing = sub.add_parser("list", help="list a user's tokens (never their text)")
        listing.add_argument("user")

    def handle(self, *args: object, **opts: object) -> None:
        user = get_user_model().objects.filter(username=opts["user"]).first()
        if user is None:
            raise CommandError(f"no such user: {opts['user']}")
        if opts["action"] == "create":
            if opts["expires"] is not None and opts["expires"] < 1:
                raise CommandError("--expires takes a number of days, 1 or more")
            _token, text = ApiToken.issue(user, str(opts["name"]), opts["expires"])
            self.stdout.write(text)
            return
        for token in ApiToken.objects.filter(user=user):
            expires = token.expires.isoformat() if token.expires else "never"
            self.stdout.write(f"{token.pk}\t{token.name or '-'}\texpires {expires}")
