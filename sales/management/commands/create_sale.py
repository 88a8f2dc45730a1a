"""manage.py create_sale --sku iphone-15 --quantity 100 [--live] ...

Prints the new sale's id alone on its last line, for scripts:
    SALE_ID=$(python manage.py create_sale --sku x --quantity 5 --live | tail -n1)
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from infra.errors import ApplicationError
from sales import services


def aware_datetime(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None


class Command(BaseCommand):
    help = "Create a sale; with --live arm it at once, with --starts-at/--ends-at schedule it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--sku", required=True)
        parser.add_argument("--quantity", type=int, required=True)
        parser.add_argument("--product-name", help="defaults to the SKU")
        parser.add_argument("--price", type=decimal, default=Decimal("1.00"), help="unit price")
        parser.add_argument("--currency", default="EUR")
        parser.add_argument("--per-user-limit", type=int, default=1)
        parser.add_argument("--rate", type=int, default=1000, help="buy requests per second let through")
        parser.add_argument("--burst", type=int, default=2000, help="token bucket size")
        parser.add_argument("--admission-rate", type=int, default=50, help="waiting-room shoppers per second")
        parser.add_argument("--starts-at", type=aware_datetime, help="ISO 8601; naive times are UTC")
        parser.add_argument("--ends-at", type=aware_datetime, help="ISO 8601; naive times are UTC")
        parser.add_argument("--merchant", default="demo", help="the owner's username")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--live", action="store_true", help="arm the sale now")
        mode.add_argument("--schedule", action="store_true", help="go live and end at --starts-at/--ends-at")

    def handle(self, *args: Any, **options: Any) -> None:
        merchant = get_user_model().objects.filter(username=options["merchant"]).first()
        if merchant is None:
            raise CommandError(f"--merchant: no user named {options['merchant']!r}")
        try:
            sale = services.sale_create(
                merchant=merchant,
                product_name=options["product_name"] or options["sku"],
                sku=options["sku"],
                unit_price=options["price"],
                currency=options["currency"],
                quantity=options["quantity"],
                starts_at=options["starts_at"],
                ends_at=options["ends_at"],
                per_user_limit=options["per_user_limit"],
                rate=options["rate"],
                burst=options["burst"],
                admission_rate=options["admission_rate"],
            )
            if options["live"]:
                sale = services.sale_go_live(sale_id=sale.pk)
            elif options["schedule"]:
                sale = services.sale_schedule(sale_id=sale.pk)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stderr.write(f"sale {sale.pk}: {sale.quantity} × {sale.sku}, {sale.status}")
        self.stdout.write(str(sale.pk))
