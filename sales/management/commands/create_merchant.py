from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from infra.errors import ApplicationError
from sales.merchants import merchant_create


class Command(BaseCommand):
    help = "Create a merchant login (asks for the password unless --password is given)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="omit to be asked (keeps it out of shell history)")

    def handle(self, *args: Any, username: str, email: str, password: str | None, **options: Any) -> None:
        password = password or getpass.getpass("Password: ")
        try:
            merchant = merchant_create(username=username, password=password, email=email)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"merchant {merchant.username} created (id {merchant.pk})")
