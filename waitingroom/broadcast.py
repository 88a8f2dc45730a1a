"""The waiting room's broadcast: one message per sale per tick, to every page
watching the sale, through the channel layer (Redis pub/sub, see CHANNEL_LAYERS
in flux_admin/settings.py for why that layer).

The admitter (waitingroom/admitter.py) publishes each tick's figures to the
Channels group ``sale-<id>``; the waiting room's websocket consumer joins that
group and relays ``queue.tick`` events to its page. The message is the same for
every shopper: each page works out its own position from ``serving`` and its
ticket, so the cost of a tick does not grow with the crowd.
"""

from __future__ import annotations

import asyncio
import threading

from channels.layers import get_channel_layer

from waitingroom.queue import QueueFigures

_local = threading.local()


def sale_group(sale_id: int) -> str:
    """The Channels group of a sale's watchers (the consumer joins it)."""
    return f"sale-{sale_id}"


def tick_message(figures: QueueFigures) -> dict[str, object]:
    """The event a tick sends: {"type": "queue.tick", "sale_id", "status" (live,
    scheduled, paused, sold_out, ended), "serving" (the highest ticket admitted so
    far), "waiting", "admission_rate", "admitted_per_s", "remaining", "quantity" (the
    units on sale, restocks included), "now_ms" (the tick's time on Redis's clock: the
    pages set their clock by it, and can tell how late an update reached them),
    "drawn_ms" (when the pre-queue was shuffled, 0 if not: a page that joined before
    asks for its new place)}."""
    return {
        "type": "queue.tick",
        "sale_id": figures.sale_id,
        "status": figures.status,
        "serving": figures.serving,
        "waiting": figures.waiting,
        "admission_rate": figures.admission_rate,
        "admitted_per_s": round(figures.admitted_per_s, 2),
        "remaining": figures.remaining,
        "quantity": figures.quantity,
        "now_ms": figures.now_ms,
        "drawn_ms": figures.drawn_ms,
    }


def _loop() -> asyncio.AbstractEventLoop:
    # One event loop per thread, kept: the pub/sub layer keeps its Redis connection
    # per loop, so a new loop per message (async_to_sync) would reconnect every tick.
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = _local.loop = asyncio.new_event_loop()
    return loop


def group_send(group: str, message: dict[str, object]) -> None:
    """Send one message to a Channels group, for synchronous callers (the admitter,
    the dashboard's ticker); raises what the channel layer raises (Redis down)."""
    layer = get_channel_layer()
    _loop().run_until_complete(layer.group_send(group, message))


def publish(sale_id: int, figures: QueueFigures) -> None:
    """Send one tick's figures to the sale's group."""
    group_send(sale_group(sale_id), tick_message(figures))
