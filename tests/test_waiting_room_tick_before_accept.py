"""A socket joins the fan-out before its handshake is answered (so that once the
page is connected its shopper counts as present); a tick that comes in between
skips it instead of raising daphne's "Socket has not been accepted" and logging a
traceback. Found by a rehearsal: hundreds of pages connecting while the line ticks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.factories import make_sale
from tests.test_waiting_room_socket import run, socket, tick
from waitingroom import fanout

pytestmark = pytest.mark.django_db(transaction=True)


class Handshaking:
    """A consumer joined to the fan-out whose accept has not been sent yet."""

    def __init__(self, sale_id: int) -> None:
        self.sale_id = sale_id
        self.shopper = None
        self.accepted = False
        self.sent: list[dict] = []

    async def base_send(self, message: dict) -> None:
        if not self.accepted:  # what daphne does
            raise ValueError("Socket has not been accepted, so cannot send over it")
        self.sent.append(message)


def test_a_tick_skips_a_socket_whose_handshake_is_not_answered(owner: Any, caplog: Any) -> None:
    sale = make_sale(owner, live=True)

    async def scenario() -> None:
        hub = fanout.fanout()
        page = socket(sale.pk)  # a connected page: it tells when a tick was relayed
        assert (await page.connect())[0]
        early = Handshaking(sale.pk)
        await hub.join(early)  # type: ignore[arg-type]
        await asyncio.to_thread(tick, sale.pk)
        await page.receive_json_from(timeout=3)
        await asyncio.sleep(0.2)  # the relay's loop over the sale's sockets is done
        assert early.sent == []
        early.accepted = True
        await asyncio.to_thread(tick, sale.pk)
        await page.receive_json_from(timeout=3)
        await asyncio.sleep(0.2)
        assert [message["type"] for message in early.sent] == ["websocket.send"]
        await hub.leave(early)  # type: ignore[arg-type]
        await page.disconnect()

    run(scenario)
    assert "a tick was not written" not in caplog.text
