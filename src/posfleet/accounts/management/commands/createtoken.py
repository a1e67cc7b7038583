"""`posfleet createtoken USERNAME [--name NAME]`: issue an API token and print it once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from posfleet.accounts import tokens
from posfleet.core.actor import Actor
from posfleet.core.errors import DomainError


class Command(BaseCommand):
    help = "Issue an API token for USERNAME and print it once (only its hash is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="A label for the token (default: cli)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        try:
            with transaction.atomic():
                token, raw = tokens.issue(Actor.system("cli", name="createtoken"), user, options["name"])
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stderr.write(f"Token {token.pk} ({token.name}) for {user.get_username()}; shown only once:")
        self.stdout.write(raw)
