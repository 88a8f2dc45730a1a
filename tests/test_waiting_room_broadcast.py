"""The broadcast: each admitter tick sends one message per sale to the sale's
Channels group, whoever and however many watch it, and every watcher learns
at once that the sale sold out or ended. Through the real channel layer (Redis
pub/sub); the watchers are channels in the group, as the websocket consumer's are."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from channels.layers import get_channel_layer

from orders.buy import decision
from sales import services
from tests.factories import make_sale
from tests.support.queue import admit, redis_now_ms
from waitingroom.admitter import Admitter
from waitingroom.broadcast import sale_group

pytestmark = pytest.mark.django_db


class Watchers:
    """Channels in sales' groups, on an event loop of the test's own (the admitter
    publishes from the same thread on its own loop, as in its process)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.layer = get_channel_layer()

    def join(self, sale_id: int, count: int) -> list[str]:
        async def join() -> list[str]:
            channels = [await self.layer.new_channel() for _ in range(count)]
            for channel in channels:
                await self.layer.group_add(sale_group(sale_id), channel)
            return channels

        return self.loop.run_until_complete(join())

    def next_message(self, channel: str, timeout: float = 3.0) -> dict | None:
        async def receive() -> dict | None:
            try:
                return await asyncio.wait_for(self.layer.receive(channel), timeout)
            except TimeoutError:
                return None

        return self.loop.run_until_complete(receive())

    def close(self) -> None:
        self.loop.run_until_complete(self.layer.flush())
        self.loop.close()


@pytest.fixture
def watchers() -> Iterator[Watchers]:
    watching = Watchers()
    yield watching
    watching.close()


def an_admitter() -> Admitter:
    return Admitter(holder="test", tick_seconds=0.5, lease_seconds=3)


def test_one_message_per_sale_per_tick_to_every_watcher(owner, redis_conn, watchers) -> None:
    busy = make_sale(owner, live=True, quantity=40, admission_rate=25)
    quiet = make_sale(owner, live=True)
    admit(redis_conn, busy.pk, "alice")  # a ticket served
    busy_watchers, quiet_watchers = watchers.join(busy.pk, 3), watchers.join(quiet.pk, 1)

    an_admitter().tick()

    for channel in busy_watchers:
        message = watchers.next_message(channel)
        assert isinstance(message.pop("admitted_per_s"), float)
        assert abs(message.pop("now_ms") - redis_now_ms(redis_conn)) < 5000
        assert message == {
            "type": "queue.tick",
            "sale_id": busy.pk,
            "status": "live",
            "serving": 1,
            "waiting": 0,
            "admission_rate": 25,
            "remaining": 40,
            "quantity": 40,
            "drawn_ms": 0,
        }
        assert watchers.next_message(channel, timeout=0.3) is None  # one message, not one per shopper
    (quiet_watcher,) = quiet_watchers
    assert watchers.next_message(quiet_watcher)["sale_id"] == quiet.pk
    assert watchers.next_message(quiet_watcher, timeout=0.3) is None


def test_sold_out_reaches_every_watcher_at_the_next_tick(owner, redis_conn, watchers) -> None:
    sale = make_sale(owner, live=True, quantity=1)
    token = admit(redis_conn, sale.pk, "alice")
    crowd = watchers.join(sale.pk, 50)
    decision.buy(sale_id=sale.pk, user_id="alice", quantity=1, idempotency_key="k", admission_token=token)

    an_admitter().tick()
    assert {watchers.next_message(channel)["status"] for channel in crowd} == {"sold_out"}


def test_an_ended_sale_is_broadcast_ended(owner, redis_conn, watchers) -> None:
    sale = make_sale(owner, live=True)
    crowd = watchers.join(sale.pk, 5)
    services.sale_end(sale_id=sale.pk)

    an_admitter().tick()  # ended a moment ago: still ticked, so its pages learn it
    assert {watchers.next_message(channel)["status"] for channel in crowd} == {"ended"}


def test_pages_get_the_figures_once_per_update_and_a_new_status_at_once(owner, redis_conn, watchers) -> None:
    sale = make_sale(owner, live=True)
    (watcher,) = watchers.join(sale.pk, 1)
    admitter = Admitter(holder="test", tick_seconds=0.1, lease_seconds=3, update_seconds=0.6)

    admitter.tick()
    assert watchers.next_message(watcher)["status"] == "live"
    admitter.tick()  # 0.1 s later: the figures are not due yet
    assert watchers.next_message(watcher, timeout=0.3) is None

    services.sale_pause(sale_id=sale.pk)
    admitter.tick()  # a new status does not wait for the update
    assert watchers.next_message(watcher)["status"] == "paused"

    time.sleep(0.6)
    admitter.tick()
    assert watchers.next_message(watcher)["status"] == "paused"  # due again
