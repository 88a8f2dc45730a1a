"""The waiting room's fan-out: many shoppers' websockets on one daphne process.

    .venv/bin/python bench/ws_fanout.py      (make bench-ws; the product must be running: make run)

It makes one live sale with a low admission rate, puts BENCH_WS_SHOPPERS shoppers
in its queue (each with its own signed shopper cookie), opens one websocket per
shopper straight to daphne (FLUX_WS_PORT: nginx is not what is measured), and for
BENCH_WS_SECONDS records every tick each socket receives. Then it ends the sale
and waits until every socket has been told. It prints, and writes to
bench-results/:

  connected       sockets open at the end of the measurement
  update delay    receive time - the tick's Redis time (now_ms), p50 / p99 / max
  update gap      time between two ticks on one socket, p99 / max
  memory          daphne's resident memory before and after, per connection
  sold-out news   end of the sale -> the last socket knowing it

Both ends run on this machine's two cores, with the rest of the product: the
client's own event loop competes with daphne for them.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flux_admin.settings")

import django  # noqa: E402

django.setup()

import websockets  # noqa: E402
from run import RESULTS, bench_merchant, log  # noqa: E402  (bench/, this script's folder)

from orders.buy.identity import SHOPPER_COOKIE, shopper_cookie_sign, shopper_id_new  # noqa: E402
from sales import services  # noqa: E402
from waitingroom.queue import queue_join  # noqa: E402

SHOPPERS = int(os.environ.get("BENCH_WS_SHOPPERS", "10000"))
SECONDS = int(os.environ.get("BENCH_WS_SECONDS", "30"))
WS_URL = os.environ.get("BENCH_WS_URL", f"ws://127.0.0.1:{os.environ.get('FLUX_WS_PORT', '8002')}")
PATH = os.environ.get("BENCH_WS_PATH", "/ws/waiting-room/{sale_id}/")
OPEN_AT_ONCE = int(os.environ.get("BENCH_WS_OPEN_AT_ONCE", "25"))  # handshakes in flight at a time
OPEN_ATTEMPTS = 3
CLOSED = {"ended", "sold_out"}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def daphne_pid() -> int:
    import subprocess

    status = subprocess.run([str(ROOT / "bin" / "run"), "status", "ws"], capture_output=True, text=True)
    words = status.stdout.split()
    if "RUNNING" not in words:
        raise SystemExit(f"daphne (ws) is not running under bin/run: {status.stdout.strip()}")
    return int(words[words.index("pid") + 1].rstrip(","))


class Watcher:
    """One shopper's socket: the ticks it received, and when it learned the end."""

    def __init__(self, cookie: str) -> None:
        self.cookie = cookie
        self.delays_ms: list[float] = []
        self.gaps_ms: list[float] = []
        self.last_ms: float | None = None
        self.closed_at: float | None = None
        self.connected = False
        self.failed_opens = 0  # handshakes that failed and were tried again

    async def watch(self, url: str, measuring: asyncio.Event, stop: asyncio.Event) -> None:
        headers = {"Cookie": f"{SHOPPER_COOKIE}={self.cookie}", "Origin": "http://127.0.0.1"}
        for attempt in range(OPEN_ATTEMPTS):
            try:
                socket = await websockets.connect(url, additional_headers=headers, open_timeout=60)
                break
            except (OSError, websockets.InvalidHandshake, websockets.InvalidMessage, TimeoutError):
                self.failed_opens += 1
                if attempt == OPEN_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(1)
        async with socket:
            self.connected = True
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(socket.recv(), timeout=1)
                except TimeoutError:
                    continue
                now_ms = time.time() * 1000
                message = json.loads(raw)
                if measuring.is_set() and self.closed_at is None and "now_ms" in message:
                    self.delays_ms.append(now_ms - message["now_ms"])
                    if self.last_ms is not None:
                        self.gaps_ms.append(now_ms - self.last_ms)
                    self.last_ms = now_ms
                if message.get("status") in CLOSED and self.closed_at is None:
                    self.closed_at = time.monotonic()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def prepare() -> tuple[int, list[Watcher]]:
    """A live sale with a low admission rate, and its queue of shoppers (synchronous:
    the ORM is not for the event loop)."""
    sale = services.sale_create(
        merchant=bench_merchant(),
        product_name="bench-ws",
        sku=f"bench-ws-{int(time.time())}",
        unit_price="1.00",
        quantity=1_000_000,
        admission_rate=1,
    )
    sale = services.sale_go_live(sale_id=sale.pk)
    log(f"ws fan-out: sale {sale.pk}; {SHOPPERS:,} shoppers join its queue")
    watchers = []
    for _ in range(SHOPPERS):
        shopper = shopper_id_new()
        queue_join(sale_id=sale.pk, shopper=shopper)
        watchers.append(Watcher(shopper_cookie_sign(shopper)))
    return sale.pk, watchers


async def main(sale_id: int, watchers: list[Watcher]) -> dict:
    pid = daphne_pid()
    before_kib = rss_kib(pid)
    url = WS_URL + PATH.format(sale_id=sale_id)
    measuring, stop = asyncio.Event(), asyncio.Event()
    tasks = []
    started = time.monotonic()
    for first in range(0, SHOPPERS, OPEN_AT_ONCE):
        batch = watchers[first : first + OPEN_AT_ONCE]
        tasks += [asyncio.create_task(w.watch(url, measuring, stop)) for w in batch]
        while sum(w.connected for w in batch) < len(batch):
            failed = [t for t in tasks if t.done() and t.exception()]
            if failed:
                raise SystemExit(f"a websocket failed to open: {failed[0].exception()!r}")
            await asyncio.sleep(0.05)
    log(f"ws fan-out: {SHOPPERS:,} sockets open in {time.monotonic() - started:.1f}s; measuring {SECONDS}s")
    await asyncio.sleep(2)  # every socket has had a tick
    measuring.set()
    await asyncio.sleep(SECONDS)
    after_kib = rss_kib(pid)
    connected = sum(1 for t in tasks if not t.done())

    ended_at = time.monotonic()
    await asyncio.to_thread(services.sale_end, sale_id=sale_id)
    deadline = ended_at + 30
    while any(w.closed_at is None for w in watchers) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    told = [w.closed_at - ended_at for w in watchers if w.closed_at is not None]
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)

    delays = [d for w in watchers for d in w.delays_ms]
    gaps = [g for w in watchers for g in w.gaps_ms]
    result = {
        "shoppers": SHOPPERS,
        "handshakes_retried": sum(w.failed_opens for w in watchers),
        "connected": connected,
        "ticks_received": len(delays),
        "delay_p50_ms": statistics.median(delays) if delays else None,
        "delay_p99_ms": percentile(delays, 0.99),
        "delay_max_ms": max(delays, default=None),
        "gap_p99_ms": percentile(gaps, 0.99),
        "gap_max_ms": max(gaps, default=None),
        "daphne_rss_before_mib": before_kib / 1024,
        "daphne_rss_after_mib": after_kib / 1024,
        "kib_per_connection": (after_kib - before_kib) / SHOPPERS,
        "told_of_the_end": len(told),
        "end_to_last_told_s": max(told, default=None),
    }
    return result


if __name__ == "__main__":
    outcome = asyncio.run(main(*prepare()))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"ws-fanout-{int(time.time())}.json"
    path.write_text(json.dumps(outcome, indent=1))
    for name, value in outcome.items():
        print(f"{name:24} {value:,.1f}" if isinstance(value, float) else f"{name:24} {value}")
    print(f"(also in {path})")
