from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from orders.topics import topics_ensure


class Command(BaseCommand):
    help = "Create the Kafka topics Flux-Gate needs (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        for name, what in topics_ensure().items():
            self.stdout.write(f"{name}: {what}")
