"""`posfleet totp USERNAME`: enrol a TOTP authenticator and print its otpauth URI and secret once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from posfleet.accounts import totp
from posfleet.core.actor import Actor


class Command(BaseCommand):
    help = "Enrol a TOTP device for USERNAME; prints the otpauth:// URI and the base32 secret once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="Device name (default: cli)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        with transaction.atomic():
            device = totp.enrol_now(Actor.system("cli", name="totp"), user, options["name"])
        self.stderr.write(f"TOTP device {device.pk} enrolled for {user.get_username()}; shown only once:")
        self.stdout.write(f"otpauth URI: {totp.otpauth_uri(device)}")
        self.stdout.write(f"secret (base32): {totp.secret_b32(device)}")
