"""The waiting room's websockets: each relays its sale's ticks to the page.

The admitter sends one message per sale per tick (waitingroom/broadcast.py);
each daphne process receives it once and writes it to every socket of the sale
it holds (waitingroom/fanout.py). The message is the same for every shopper:
each page works out its own place from ``serving`` and its ticket, so no
message is ever per shopper.

Who the socket belongs to comes from the signed fg_shopper cookie the handshake
carries (orders/buy/identity.py). On the waiting room's socket a valid cookie
makes the shopper present while the socket is open, and absent when it closes:
the admitter admits only present shoppers. A missing or forged cookie still
watches the public figures (they are the same for everyone) but is nobody: it
keeps no one's place alive.
"""

from __future__ import annotations

import asyncio

from channels.generic.websocket import AsyncWebsocketConsumer

from infra.errors import ServiceUnavailable
from orders.buy import identity
from sales.live import live_state
from waitingroom.fanout import fanout

UNKNOWN_SALE = 4404  # the close code of a socket for a sale that has no live state


def _sale_known(sale_id: int) -> bool:
    """Whether the sale has live state (armed, live, or ended not long ago). While Redis
    does not answer, yes: the socket's ticks will come once it does."""
    try:
        return live_state(sale_id) is not None
    except ServiceUnavailable:
        return True


def shopper_of_scope(scope: dict) -> str | None:
    """The shopper of the handshake's fg_shopper cookie, None if absent or forged."""
    return identity.shopper_of_cookie(scope.get("cookies", {}).get(identity.SHOPPER_COOKIE))


class SaleWatchConsumer(AsyncWebsocketConsumer):
    """/ws/sales/<id>/: the sale page's socket, the queue's figures only (stock
    left, sold out, ended); it counts no one present."""

    counts_presence = False
    # No channel of its own on the layer: the process's fan-out receives the sale's
    # ticks once and writes them here (with a channel per socket, the pub/sub layer
    # keeps a Redis subscription and a receive task for every socket).
    channel_layer_alias = None

    async def connect(self) -> None:
        self.sale_id = int(self.scope["url_route"]["kwargs"]["sale_id"])
        self.shopper = shopper_of_scope(self.scope) if self.counts_presence else None
        self.joined = False
        self.accepted = False
        if not await asyncio.to_thread(_sale_known, self.sale_id):
            # A made-up id would hold a share of the fan-out for nothing: refused, with
            # the code every unknown socket gets (flux_admin/sockets.py).
            await self.accept()
            await self.close(code=UNKNOWN_SALE)
            return
        await fanout().join(self)  # present before the accept: once connected, it counts
        self.joined = True
        await self.accept()
        self.accepted = True

    async def disconnect(self, code: int) -> None:
        if self.joined:
            await fanout().leave(self)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """The page sends nothing; whatever it sends is ignored."""


class WaitingRoomConsumer(SaleWatchConsumer):
    """/ws/waiting-room/<id>/: the waiting room's socket; keeps its shopper present."""

    counts_presence = True
