from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from infra.errors import ApplicationError
from sales.storefront import storefront_key_create


class Command(BaseCommand):
    help = (
        "Create a storefront key for a merchant: its shop signs shoppers' X-Shopper-Token with it. "
        "The key id and the secret are printed once, alone on the last line, separated by a space."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username", help="the merchant")
        parser.add_argument("--name", default="storefront", help="which storefront uses it")

    def handle(self, *args: Any, username: str, name: str, **options: Any) -> None:
        merchant = get_user_model().objects.filter(username=username).first()
        if merchant is None:
            raise CommandError(f"no user named {username!r}")
        try:
            key, secret = storefront_key_create(merchant=merchant, name=name)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stderr.write("The secret is shown only now: store it with the shop's backend.")
        self.stdout.write(f"{key.key_id} {secret}")
