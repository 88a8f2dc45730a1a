"""The demo `make run` prints: a merchant login, an API token and a live sale."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sales import merchants, services
from sales.models import OPEN_STATUSES, MerchantToken, Sale, SaleStatus

DEMO_SKU = "iphone-15"


class Command(BaseCommand):
    help = "Create (or reuse) the demo merchant and a live demo sale; print how to use them."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo is for development: it creates a login with a known password")
        username = settings.FLUX_DEMO_MERCHANT
        password = os.environ.get("FLUX_DEMO_PASSWORD", "flux-demo-2026")
        merchant = get_user_model().objects.filter(username=username).first()
        if merchant is None:
            merchant = merchants.merchant_create(username=username, password=password)
        MerchantToken.objects.filter(merchant=merchant, name="demo").delete()
        _, token = MerchantToken.issue(merchant=merchant, name="demo")

        sale = Sale.objects.filter(merchant=merchant, sku=DEMO_SKU, status__in=OPEN_STATUSES).first()
        if sale is None:
            now = timezone.now()
            sale = services.sale_create(
                merchant=merchant,
                product_name="iPhone 15, half price",
                sku=DEMO_SKU,
                unit_price=Decimal("449.00"),
                quantity=100,
                starts_at=now,
                ends_at=now + timedelta(days=1),
            )
        if sale.status in (SaleStatus.DRAFT, SaleStatus.SCHEDULED):
            sale = services.sale_go_live(sale_id=sale.pk)
        else:
            sale = services.sale_rearm(sale_id=sale.pk)  # make sure Redis has it

        base = os.environ.get("FLUX_PUBLIC_URL", f"http://127.0.0.1:{os.environ.get('FLUX_PORT', '8000')}")
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "Flux-Gate is starting:",
                    f"  merchant pages  {base}/admin/   login {username} / {password}",
                    f"  API docs        {base}/api/docs",
                    f"  health          {base}/healthz",
                    f"  demo sale       #{sale.pk} {sale.sku}: {sale.quantity} units, {sale.status}",
                    f"  API token       {token}",
                    f"  sale figures    curl -H 'Authorization: Bearer {token}' {base}/api/v1/sales/{sale.pk}",
                    f"  live dashboard  {base}/admin/sales/sale/{sale.pk}/dashboard/",
                    "",
                ]
            )
        )
