"""Websockets that are not ours to serve are refused with a close code, and cost
nothing after: an unknown path or a malformed id used to answer 500 and log a
traceback each; a made-up sale id held a share of daphne's fan-out; nothing capped
the sockets of one address (2,000 from one address grew daphne by 77 MB for good).
Through the whole product (front, nginx, daphne), clients on addresses of their own
(127.0.1.x)."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.at_the_door.conftest import SOCKETS_PER_ADDRESS
from tests.factories import make_sale
from tests.support.product import Product

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def run(scenario: object) -> object:
    """On a loop of its own, in a thread (Playwright's loop may hold this one)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, scenario).result()  # type: ignore[arg-type]


async def opened(product: Product, path: str, address: str = "127.0.1.1") -> ClientConnection:
    return await connect(
        f"ws://127.0.0.1:{product.port}{path}",
        origin="http://127.0.0.1",
        local_addr=(address, 0),
        open_timeout=10,
    )


async def close_code(product: Product, path: str, address: str = "127.0.1.1") -> int | None:
    """The code the server closes a new socket with (None: still open after 2 s)."""
    socket = await opened(product, path, address)
    try:
        await asyncio.wait_for(socket.recv(), 2)
        await asyncio.wait_for(socket.wait_closed(), 2)
    except ConnectionClosed:
        pass
    except TimeoutError:
        await socket.close()
        return None
    return socket.close_code


def daphne_rss_kb(product: Product) -> int:
    pid = product.status()["ws"][1]
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


def ws_log(product: Product) -> str:
    return (product.state_dir / "logs" / "ws.log").read_text(errors="replace")


@pytest.mark.parametrize(
    "path", ["/ws/nope/", "/ws/waiting-room/abc/", "/ws/waiting-room/1", "/ws/sales/1/x/", "/ws/"]
)
def test_an_unknown_path_is_closed_4404_without_a_traceback(product: Product, path: str) -> None:
    assert run(close_code(product, path)) == 4404
    assert "Traceback" not in ws_log(product)


def test_a_made_up_sale_is_closed_4404(product: Product) -> None:
    assert run(close_code(product, "/ws/waiting-room/987654321/")) == 4404
    assert run(close_code(product, "/ws/sales/987654321/")) == 4404


def test_a_nul_in_the_url_is_closed_4400(product: Product, owner) -> None:
    sale = make_sale(owner, live=True)
    assert run(close_code(product, f"/ws/sales/{sale.pk}/?x=%00")) == 4400


def test_the_sockets_of_one_address_are_capped(product: Product, owner) -> None:
    sale = make_sale(owner, live=True)
    path = f"/ws/sales/{sale.pk}/"

    async def scenario() -> None:
        mine = [await opened(product, path, "127.0.1.7") for _ in range(SOCKETS_PER_ADDRESS)]
        try:
            assert await close_code(product, path, "127.0.1.7") == 4429
            assert await close_code(product, path, "127.0.1.8") is None  # another address: welcome
            await mine.pop().close()
            await asyncio.sleep(0.5)
            assert await close_code(product, path, "127.0.1.7") is None  # room again
        finally:
            for socket in mine:
                await socket.close()

    run(scenario())
    assert "Traceback" not in ws_log(product)


def test_a_flood_of_sockets_leaves_daphne_s_memory_where_it_was(product: Product, owner) -> None:
    """2,000 sockets to made-up sale ids from 100 addresses, then 1,000 real ones held
    open together and closed: daphne's memory comes back to within 8 MB of where it was
    (measured: 3.7 MB; 19.4 MB without giving it back; 77 MB in issue 22's audit)."""
    sale = make_sale(owner, live=True)

    async def crowd(path: str, count: int, hold: bool) -> None:
        sockets = []
        for n in range(count):
            sockets.append(await opened(product, path, f"127.0.1.{10 + n % 100}"))
        if hold:
            await asyncio.sleep(1)
        await asyncio.gather(*(socket.close() for socket in sockets))

    run(crowd(f"/ws/sales/{sale.pk}/", 1_000, hold=True))  # warm-up: what daphne keeps for good
    before = daphne_rss_kb(product)
    run(crowd("/ws/waiting-room/987654321/", 2_000, hold=False))
    run(crowd(f"/ws/sales/{sale.pk}/", 1_000, hold=True))
    time.sleep(3)  # daphne hears the last closes, then gives the memory back after a quiet second
    after = daphne_rss_kb(product)
    assert after - before < 8 * 1024, f"daphne kept {after - before} kB after its sockets closed"
