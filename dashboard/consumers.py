"""The dashboards' websockets. The ticker (dashboard/ticker.py) sends one message
per sale per tick to the group ``dashboard-sale-<id>``; every dashboard watching
the sale is in that group and passes the point on to its page.

The handshake carries the admin's session cookie (AuthMiddlewareStack in
flux_admin/asgi.py): an anonymous socket, or a merchant's socket for another
merchant's sale, is refused before it is accepted (the browser sees the
handshake fail, HTTP 403) and never joins the group.

    /ws/dashboard/sales/<id>/   one sale: its history first, then each point
    /ws/dashboard/              the overview: the latest point of every live sale
                                the user may see, then each point; sales that go
                                live later are joined within OVERVIEW_REFRESH_SECONDS
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from dashboard.access import may_use_console, watchable_live_sales, watchable_sale
from dashboard.history import history_last, history_read
from dashboard.ticker import sale_group
from infra.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

# Close code of a refused handshake (4000-4999: the application's own).
REFUSED = 4403
OVERVIEW_REFRESH_SECONDS = 5.0


class SaleDashboardConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.sale_id = int(self.scope["url_route"]["kwargs"]["sale_id"])
        self.group = None
        sale = await database_sync_to_async(watchable_sale)(user=self.scope.get("user"), sale_id=self.sale_id)
        if sale is None:
            await self.close(code=REFUSED)
            return
        self.group = sale_group(self.sale_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        try:
            points = await sync_to_async(history_read, thread_sensitive=False)(self.sale_id)
        except ServiceUnavailable as error:
            logger.warning("dashboard %s: no history: %s", self.sale_id, error)
            points = []
        # A point sent meanwhile may come twice: the page keeps one per time.
        await self.send_json({"type": "dashboard.history", "sale_id": self.sale_id, "points": points})

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def dashboard_point(self, event: dict) -> None:
        """One tick of the sale (type "dashboard.point"), passed on as it came."""
        await self.send_json(event)


class OverviewConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.sale_ids: set[int] = set()
        self.refresher: asyncio.Task | None = None
        if not may_use_console(self.scope.get("user")):
            await self.close(code=REFUSED)
            return
        await self.accept()
        await self._refresh()
        self.refresher = asyncio.ensure_future(self._refresh_forever())

    async def _refresh(self) -> None:
        """Join the groups of the live sales the user may see now, leave the others,
        and send the latest point of each sale joined."""
        sales = await database_sync_to_async(watchable_live_sales)(user=self.scope["user"])
        now = {sale.pk for sale in sales}
        for sale_id in now - self.sale_ids:
            await self.channel_layer.group_add(sale_group(sale_id), self.channel_name)
        for sale_id in self.sale_ids - now:
            await self.channel_layer.group_discard(sale_group(sale_id), self.channel_name)
        joined = sorted(now - self.sale_ids)
        self.sale_ids = now
        try:
            latest = await sync_to_async(history_last, thread_sensitive=False)(joined)
        except ServiceUnavailable:
            latest = {}
        await self.send_json(
            {
                "type": "dashboard.sales",
                "sales": [{"sale_id": sale.pk, "product_name": sale.product_name} for sale in sales],
                "points": [latest[sale_id] for sale_id in joined if sale_id in latest],
            }
        )

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(OVERVIEW_REFRESH_SECONDS)
            try:
                await self._refresh()
            except Exception:  # the socket keeps relaying what it joined
                logger.exception("dashboard overview: refresh failed")

    async def disconnect(self, code: int) -> None:
        if self.refresher is not None:
            self.refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.refresher
        for sale_id in self.sale_ids:
            await self.channel_layer.group_discard(sale_group(sale_id), self.channel_name)

    async def dashboard_point(self, event: dict) -> None:
        await self.send_json(event)
