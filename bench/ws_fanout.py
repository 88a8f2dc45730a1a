"""The waiting room's fan-out: many shoppers' websockets on one daphne process.

    .venv/bin/python bench/ws_fanout.py      (make bench-ws; the last part of make bench)

The product's processes are bin/run's, started here unless already serving (as
bench/run.py does); daphne is restarted first, so its memory is measured from a
cold process.

It makes one live sale with a low admission rate, puts BENCH_WS_SHOPPERS shoppers
in its queue (each with its own signed shopper cookie), and has bench/wsclient (a
small Go program, built here with the machine's `go`) open one websocket per
shopper straight to daphne (FLUX_WS_PORT: nginx is not what is measured) and
record every tick each socket receives for BENCH_WS_SECONDS. Then it ends the
sale and the client waits until every socket has been told. The client is in Go
because a Python one (the websockets package) spent as much CPU reading the
ticks as daphne spent writing them, on the same two cores. It prints, and writes
to bench-results/:

  connected       sockets open at the end of the measurement
  update delay    receive time - the tick's Redis time (now_ms), p50 / p99 / max
  update gap      time between two ticks on one socket, p99 / max
  memory          daphne's resident memory before and after, per connection
  sold-out news   end of the sale -> the last socket knowing it

Both ends run on this machine's two cores, with the rest of the product: the
client's own event loop competes with daphne for them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flux_admin.settings")

import django  # noqa: E402

django.setup()

from run import RESULTS, bench_merchant, log, start_processes, stop_processes  # noqa: E402  (bench/, this script's folder)

from orders.buy.identity import SHOPPER_COOKIE, shopper_cookie_sign, shopper_id_new  # noqa: E402
from sales import services  # noqa: E402
from waitingroom.queue import queue_join  # noqa: E402

SHOPPERS = int(os.environ.get("BENCH_WS_SHOPPERS", "10000"))
SECONDS = int(os.environ.get("BENCH_WS_SECONDS", "30"))
WS_URL = os.environ.get("BENCH_WS_URL", f"ws://127.0.0.1:{os.environ.get('FLUX_WS_PORT', '8002')}")
PATH = os.environ.get("BENCH_WS_PATH", "/ws/waiting-room/{sale_id}/")
OPEN_AT_ONCE = int(os.environ.get("BENCH_WS_OPEN_AT_ONCE", "25"))  # handshakes in flight at a time
CLIENT = RESULTS / "wsclient"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def daphne_pid() -> int:
    status = subprocess.run([str(ROOT / "bin" / "run"), "status", "ws"], capture_output=True, text=True)
    words = status.stdout.split()
    if "RUNNING" not in words:
        raise SystemExit(f"daphne (ws) is not running under bin/run: {status.stdout.strip()}")
    return int(words[words.index("pid") + 1].rstrip(","))


def fresh_daphne() -> None:
    """Restart daphne so that its memory per connection is measured from a cold
    process (a daphne that once held 10,000 sockets keeps most of that memory)."""
    subprocess.run([str(ROOT / "bin" / "run"), "restart", "ws"], check=True, capture_output=True)
    port = int(WS_URL.rsplit(":", 1)[1])
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"daphne did not listen on {port} within 30 s") from None
            time.sleep(0.2)


def build_client() -> None:
    RESULTS.mkdir(exist_ok=True)
    subprocess.run(["go", "build", "-o", str(CLIENT), "."], cwd=ROOT / "bench" / "wsclient", check=True)


def read_event(client: subprocess.Popen, name: str) -> dict:
    """The client's next line, which must be the event `name`."""
    line = client.stdout.readline()
    if not line:
        raise SystemExit(f"wsclient stopped before {name!r} (exit {client.wait()})")
    event = json.loads(line)
    if event.pop("event") != name:
        raise SystemExit(f"wsclient said {event}, expected {name!r}")
    return event


def prepare() -> tuple[int, list[str]]:
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
    cookies = []
    for _ in range(SHOPPERS):
        shopper = shopper_id_new()
        queue_join(sale_id=sale.pk, shopper=shopper)
        cookies.append(f"{SHOPPER_COOKIE}={shopper_cookie_sign(shopper)}")
    return sale.pk, cookies


def main(sale_id: int, cookies: list[str]) -> dict:
    pid = daphne_pid()
    before_kib = rss_kib(pid)
    url = WS_URL + PATH.format(sale_id=sale_id)
    client = subprocess.Popen(
        [str(CLIENT), "-url", url, "-seconds", str(SECONDS), "-open-at-once", str(OPEN_AT_ONCE)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        client.stdin.write("\n".join(cookies) + "\n\n")
        client.stdin.flush()
        opened = read_event(client, "open")
        log(f"ws fan-out: {SHOPPERS:,} sockets open in {opened['seconds']:.1f}s; measuring {SECONDS}s")
        measured = read_event(client, "measured")
        after_kib = rss_kib(pid)
        client.stdin.write(f"ended {int(time.time() * 1000)}\n")
        client.stdin.flush()
        services.sale_end(sale_id=sale_id)
        told = read_event(client, "told")
    finally:
        client.kill()
        client.wait()
    return {
        "shoppers": SHOPPERS,
        "handshakes_retried": opened["handshakes_retried"],
        **measured,
        "daphne_rss_before_mib": before_kib / 1024,
        "daphne_rss_after_mib": after_kib / 1024,
        "kib_per_connection": (after_kib - before_kib) / SHOPPERS,
        **told,
    }


if __name__ == "__main__":
    build_client()
    processes = start_processes()
    try:
        fresh_daphne()
        outcome = main(*prepare())
    finally:
        stop_processes(processes)
    path = RESULTS / f"ws-fanout-{int(time.time())}.json"
    path.write_text(json.dumps(outcome, indent=1))
    for name, value in outcome.items():
        print(f"{name:24} {value:,.1f}" if isinstance(value, float) else f"{name:24} {value}")
    print(f"(also in {path})")
