from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from sales.models import MerchantToken


class Command(BaseCommand):
    help = "Issue an API token for a merchant; the token is printed once, alone on the last line."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli")

    def handle(self, *args: Any, username: str, name: str, **options: Any) -> None:
        merchant = get_user_model().objects.filter(username=username).first()
        if merchant is None:
            raise CommandError(f"no user named {username!r}")
        _, raw = MerchantToken.issue(merchant=merchant, name=name)
        self.stdout.write(raw)
