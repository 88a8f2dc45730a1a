"""The waiting room's websocket: relays each admitter tick to the page.

The admitter sends one message per sale per tick to the Channels group
``sale-<id>`` (waitingroom/broadcast.py); every socket watching the sale is in
that group and passes the message on unchanged: each page works out its own
place from ``serving`` and its ticket, so no message is ever per shopper.

Who the socket belongs to comes from the signed fg_shopper cookie the handshake
carries (orders/buy/identity.py). On the waiting room's socket a valid cookie
makes the shopper present (queue_present) while the socket is open, and absent
when it closes (queue_absent): the admitter admits only present shoppers. A
missing or forged cookie still watches the public figures (they are the same
for everyone) but is nobody: it keeps no one's place alive.
"""

from __future__ import annotations

import logging
import time

from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from infra.errors import ServiceUnavailable
from orders.buy import identity
from waitingroom.broadcast import sale_group
from waitingroom.queue import queue_absent, queue_present

logger = logging.getLogger(__name__)

# How often an open socket says again that its shopper is there (queue.py: a
# shopper with two tabs who closes one is marked gone until the other says so).
PRESENCE_RENEW_SECONDS = 5.0


def shopper_of_scope(scope: dict) -> str | None:
    """The shopper of the handshake's fg_shopper cookie, None if absent or forged."""
    value = scope.get("cookies", {}).get(identity.SHOPPER_COOKIE)
    if not value:
        return None
    try:
        return identity.shopper_cookie_verify(value)
    except identity.ShopperRefused:
        return None


class SaleWatchConsumer(AsyncJsonWebsocketConsumer):
    """/ws/sales/<id>/: the sale page's socket, the queue's figures only (stock
    left, sold out, ended); it counts no one present."""

    counts_presence = False

    async def connect(self) -> None:
        self.sale_id = int(self.scope["url_route"]["kwargs"]["sale_id"])
        self.group = sale_group(self.sale_id)
        self.shopper = shopper_of_scope(self.scope) if self.counts_presence else None
        self.renew_at = 0.0
        await self.channel_layer.group_add(self.group, self.channel_name)
        if self.shopper is not None:  # before the accept: once the page is connected, it counts
            await self._presence(queue_present)
        await self.accept()

    async def dispatch(self, message: dict) -> None:
        """Channels' dispatch, less its close_old_connections before every message: that
        is a thread hop per message per socket (2 ticks a second to every socket), and
        profiled with 1,500 sockets open it was 39% of daphne's time. These consumers
        never touch the ORM (the queue's calls are Redis only), so there is nothing to close."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)
        if self.shopper is not None:
            await self._presence(queue_absent)

    async def queue_tick(self, event: dict) -> None:
        """One admitter tick (type "queue.tick"): passed on to the page as it came."""
        if self.shopper is not None and time.monotonic() >= self.renew_at:
            await self._presence(queue_present)
        await self.send_json(event)

    async def _presence(self, record: object) -> None:
        # Redis calls are synchronous: off the event loop, on a thread of their own.
        try:
            await sync_to_async(record, thread_sensitive=False)(sale_id=self.sale_id, shopper=self.shopper)
        except ServiceUnavailable as error:
            # The socket keeps relaying; the next renewal (or a poll) records it.
            logger.warning("waiting room %s: presence not recorded: %s", self.sale_id, error)
            return
        self.renew_at = time.monotonic() + PRESENCE_RENEW_SECONDS


class WaitingRoomConsumer(SaleWatchConsumer):
    """/ws/waiting-room/<id>/: the waiting room's socket; keeps its shopper present."""

    counts_presence = True
