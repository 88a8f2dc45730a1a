"""One daphne process's share of the broadcast: each tick reaches the process
once and is written to every socket of the sale that the process holds.

The admitter sends one message per sale per tick to the Channels group
``sale-<id>`` (waitingroom/broadcast.py). Channels' usual pattern would put every
socket in that group, which gives each socket its own channel on the layer (with
the pub/sub layer, a Redis subscription each), its own receive task, a queue put
and a wake-up per tick, and its own JSON encoding of the same message. Here the
process joins the group once per sale it has sockets for, encodes each tick
once, and writes the text to its sockets in one loop: the work per socket per
tick is the write itself.

Presence works the same way. An open socket must keep saying that its shopper is
there (a shopper with two tabs who closes one is marked gone until the other says
so: waitingroom/queue.py); instead of a Redis call per socket every few seconds,
the process renews the shoppers of all its sockets of a sale in one call
(queue_present_many) every PRESENCE_RENEW_SECONDS.

Everything here lives on one event loop (daphne's; a test's own loop gets its
own Fanout): no locks beyond the per-sale one that orders a renewal before a
close, so that a socket that closed is never renewed after its queue_absent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections.abc import Callable
from typing import Protocol

from channels.layers import get_channel_layer

from infra.errors import ServiceUnavailable
from waitingroom.broadcast import sale_group
from waitingroom.queue import queue_absent, queue_present, queue_present_many

logger = logging.getLogger(__name__)

# How often the shoppers of the open sockets say again that they are there.
PRESENCE_RENEW_SECONDS = 5.0


class Socket(Protocol):
    """What the fan-out needs of a consumer (waitingroom/consumers.py)."""

    sale_id: int
    shopper: str | None  # None: watches the figures, keeps no one present
    accepted: bool  # joined before its handshake is answered: no tick until then

    async def base_send(self, message: dict) -> None: ...  # Channels' send to the server


class SaleSockets:
    """The sockets of one sale in this process, and the task that relays its ticks."""

    def __init__(self, sale_id: int) -> None:
        self.sale_id = sale_id
        self.sockets: set[Socket] = set()
        self.channel = ""
        self.relay: asyncio.Task | None = None
        self.renewal: asyncio.Task | None = None  # kept: the loop holds tasks weakly
        self.presence = asyncio.Lock()  # a renewal and a close, one at a time
        self.renew_at = time.monotonic() + PRESENCE_RENEW_SECONDS

    def shoppers(self) -> set[str]:
        return {socket.shopper for socket in self.sockets if socket.shopper is not None}


class Fanout:
    """The sales this process has sockets for (one per event loop: fanout())."""

    def __init__(self) -> None:
        self.sales: dict[int, SaleSockets] = {}
        self.layer = get_channel_layer()

    async def join(self, socket: Socket) -> None:
        """The socket receives its sale's ticks from now on; its shopper is present
        (recorded before this returns: the consumer accepts the socket after it)."""
        sale = self.sales.get(socket.sale_id)
        if sale is None:
            sale = self.sales[socket.sale_id] = SaleSockets(socket.sale_id)
            # The process's own channel in the sale's group, and one task reading it.
            sale.channel = await self.layer.new_channel()
            await self.layer.group_add(sale_group(sale.sale_id), sale.channel)
            sale.relay = asyncio.create_task(self._relay(sale), name=f"fanout-{sale.sale_id}")
        sale.sockets.add(socket)
        if socket.shopper is not None:
            await _record(sale.sale_id, queue_present, shopper=socket.shopper)

    async def leave(self, socket: Socket) -> None:
        """The socket closed: no more ticks; its shopper is gone since now (another
        socket of the same shopper says otherwise at the next renewal)."""
        sale = self.sales.get(socket.sale_id)
        if sale is None or socket not in sale.sockets:
            return
        sale.sockets.discard(socket)
        if socket.shopper is not None:
            async with sale.presence:  # after any renewal already under way
                await _record(sale.sale_id, queue_absent, shopper=socket.shopper)
        if not sale.sockets and self.sales.get(sale.sale_id) is sale:
            del self.sales[sale.sale_id]
            if sale.relay is not None:
                sale.relay.cancel()  # the layer drops the channel when its receive is cancelled
            await self.layer.group_discard(sale_group(sale.sale_id), sale.channel)

    async def _relay(self, sale: SaleSockets) -> None:
        while True:
            message = await self.layer.receive(sale.channel)
            # Hot loop, once per tick for every socket of the sale: one encoding, then
            # only the writes (daphne drops a write to a socket that has just closed).
            frame = {"type": "websocket.send", "text": json.dumps(message)}
            for socket in list(sale.sockets):
                if not socket.accepted:
                    continue  # daphne refuses a write before the accept; the next tick reaches it
                try:
                    await socket.base_send(frame)  # what consumer.send(text_data=) sends
                except Exception:  # one broken socket must not silence the others
                    logger.exception("waiting room %s: a tick was not written", sale.sale_id)
            if time.monotonic() >= sale.renew_at:
                sale.renew_at = time.monotonic() + PRESENCE_RENEW_SECONDS
                sale.renewal = asyncio.create_task(self._renew(sale))

    async def _renew(self, sale: SaleSockets) -> None:
        async with sale.presence:
            shoppers = sale.shoppers()
            if shoppers:
                await _record(sale.sale_id, queue_present_many, shoppers=shoppers)


async def _record(sale_id: int, call: Callable[..., object], **who: object) -> None:
    """A presence call on a thread (the queue's calls are synchronous Redis). If
    Redis does not answer, the sockets keep relaying and the next renewal (or a
    poll) records it."""
    try:
        await asyncio.to_thread(call, sale_id=sale_id, **who)
    except ServiceUnavailable as error:
        logger.warning("waiting room %s: presence not recorded: %s", sale_id, error)


_fanouts: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Fanout] = weakref.WeakKeyDictionary()


def fanout() -> Fanout:
    """This event loop's Fanout (daphne has one loop; each test's loop its own)."""
    loop = asyncio.get_running_loop()
    found = _fanouts.get(loop)
    if found is None:
        found = _fanouts[loop] = Fanout()
    return found
