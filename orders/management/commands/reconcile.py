from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from orders.reconcile import sale_reconcile_until_settled
from sales.models import Sale


class Command(BaseCommand):
    help = "Print a sale's reconciliation report; exit 1 if its books do not settle within --wait seconds."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("sale_id", type=int)
        parser.add_argument("--wait", type=float, default=30, help="seconds to let in-flight orders settle")

    def handle(self, *args: Any, sale_id: int, wait: float, **options: Any) -> None:
        if not Sale.objects.filter(pk=sale_id).exists():
            raise CommandError(f"no sale {sale_id}")
        report = sale_reconcile_until_settled(sale_id=sale_id, seconds=wait)
        self.stdout.write("\n".join(report.lines()))
        if not report.settled:
            self.stderr.write(f"sale {sale_id}: the books did not settle within {wait:g}s")
            sys.exit(1)
