"""`make bench`: load the buy API with wrk on loopback and print one table.

Phases (each: a fresh sale, a short warm-up, then BENCH_SECONDS of load with
BENCH_CONNECTIONS connections from one wrk thread, every request a new shopper
with a new idempotency key):

  sold-out herd    the stock is gone; answers come from the sold-out flag
  over-rate flood  the token bucket is empty; answers are 302 to the waiting room
  the seed's shape POST /init 100 units of iphone-15 (the demo merchant's), then 100
                   connections on the seed's POST /order {productId, userId}, as its
                   own load test does (bench/seed_shape.py): 100 sold, the rest refused
  in stock         every request is a new reservation acknowledged by Kafka

After the in-stock phase it checks the books: one order message on the topic
per unit sold (quantity - remaining in Redis), and the units sold match the
accepted answers (see the comment there on requests wrk leaves in flight).

The product's processes are bin/run's (supervisord), started here unless
something already answers on BENCH_URL. Results go to bench-results/.

Every request names its shopper in the body (bench/buy.lua), which the buy API
trusts only in demo mode: the processes started here run with FLUX_DEMO_MODE=true,
and processes found already serving must too (checked before anything is measured).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flux_admin.settings")

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
import seed_shape  # noqa: E402  (bench/, this script's folder)
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from seed_shape import require_demo_mode  # noqa: E402

from infra.clients import redis_client  # noqa: E402
from infra.kafka import end_offsets  # noqa: E402
from orders.topics import sale_order_messages  # noqa: E402
from sales import keys, merchants, services  # noqa: E402
from sales.live import live_state  # noqa: E402

URL = os.environ.get("BENCH_URL", "http://127.0.0.1:8000")
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
WARM_UP_SECONDS = 3
# Kafka's JVM compiles its produce path during the first seconds of load: right after
# `bin/stack up` the in-stock phase measured 1,880 orders/s (p99 65 ms) with a 3 s
# warm-up and 2,757 /s (p99 32 ms) on the next run. Its warm-up is long enough for both.
IN_STOCK_WARM_UP_SECONDS = 15
RESULTS = ROOT / "bench-results"


@dataclass
class Phase:
    name: str
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    statuses: dict | None = None
    counted: str = ""  # what rps counts

    @property
    def passed(self) -> bool:
        """No 5xx. Speed is judged against the seed measured in the same run (bench/versus.py),
        never against a figure from another run."""
        return not any(str(code).startswith("5") for code in (self.statuses or {}))


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def serving() -> bool:
    try:
        with urllib.request.urlopen(f"{URL}/healthz", timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


def start_processes() -> subprocess.Popen | None:
    if serving():
        log(f"using the processes already serving {URL}")
        return None
    log("starting every process (bin/run, supervisord)")
    (ROOT / ".stack" / "logs").mkdir(parents=True, exist_ok=True)
    processes = subprocess.Popen(
        [str(ROOT / "bin" / "run")],
        cwd=ROOT,
        env={**os.environ, "FLUX_DEMO_MODE": "true"},  # the load names shoppers in the body
        stdout=open(ROOT / ".stack" / "logs" / "bench-processes.log", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not serving():
        if time.monotonic() > deadline or processes.poll() is not None:
            raise SystemExit("the processes did not start; see .stack/logs/bench-processes.log")
        time.sleep(0.5)
    return processes


def stop_processes(processes: subprocess.Popen | None) -> None:
    if processes is not None:
        processes.send_signal(signal.SIGINT)  # as Ctrl+C: supervisord stops them all
        processes.wait(60)


def forget_old_bench_sales() -> None:
    """Delete what earlier runs' (ended) bench sales left in Redis, then compact the
    append-only file, before anything is measured.

    Every bench request is a new idempotency key kept for a week: after a few runs
    Redis held millions of them (900 MB), and its automatic AOF rewrite, a forked
    child busy for seconds, landed inside a measured phase (in-stock 2,147 /s
    against 2,549-2,794 /s in the runs around it)."""
    from sales.models import Sale, SaleStatus

    ended = set(
        Sale.objects.filter(sku__startswith="bench-", status=SaleStatus.ENDED).values_list("pk", flat=True)
    )
    client = redis_client()
    doomed: list[bytes] = []
    deleted = 0
    for key in client.scan_iter(match="fg:{*}:idem:*", count=10_000):
        if int(key[4 : key.index(b"}")]) in ended:
            doomed.append(key)
            if len(doomed) == 10_000:
                deleted += client.unlink(*doomed)
                doomed.clear()
    if doomed:
        deleted += client.unlink(*doomed)
    if deleted:
        log(f"deleted {deleted:,} idempotency keys of ended bench sales; compacting Redis's append-only file")
        # If Redis already started one of its own (the file grows as keys go), wait for that.
        with contextlib.suppress(redis.ResponseError):
            client.bgrewriteaof()
    while any(
        client.info("persistence").get(f) for f in ("aof_rewrite_in_progress", "aof_rewrite_scheduled")
    ):
        time.sleep(0.5)


def bench_merchant():
    user = get_user_model().objects.filter(username="bench").first()
    return user or merchants.merchant_create(username="bench", password=os.urandom(16).hex())


def new_sale(sku: str, **fields: object) -> int:
    """A fresh live sale for one phase (an earlier run's sale of that SKU is ended)."""
    from sales.models import OPEN_STATUSES, Sale

    for old in Sale.objects.filter(sku=sku, status__in=OPEN_STATUSES):
        services.sale_end(sale_id=old.pk)
    merchant = bench_merchant()
    sale = services.sale_create(merchant=merchant, product_name=sku, sku=sku, unit_price="1.00", **fields)
    live = services.sale_go_live(sale_id=sale.pk).pk
    # A sale taking its SKU over from an earlier one opens once no process can still route
    # the SKU to the old one (sales/live.py, live_arm): until then it answers not_started.
    time.sleep(keys.SKU_CACHE_MS / 1000 + 0.2)
    return live


def demo_token() -> str:
    """A fresh API token of the demo merchant (created if missing), whose sales the
    seed's anonymous POST /order reaches: POST /init needs a merchant."""
    from sales.models import MerchantToken

    username = settings.FLUX_DEMO_MERCHANT
    merchant = get_user_model().objects.filter(username=username).first()
    merchant = merchant or merchants.merchant_create(username=username, password=os.urandom(16).hex())
    return MerchantToken.issue(merchant=merchant, name="make bench")[1]


def seed_shape_phase(phase: Phase) -> None:
    """The seed's load test: POST /init, then at once its crowd on POST /order."""
    log(f"{phase.name}: POST /init, then {seed_shape.SECONDS}s with {seed_shape.CONNECTIONS} connections")
    seed_shape.init(URL, demo_token())
    result = seed_shape.crowd(URL)
    phase.requests, phase.seconds = result["requests"], result["duration_us"] / 1e6
    phase.statuses, phase.counted = result["statuses"], "requests/s"
    phase.rps = phase.requests / phase.seconds
    phase.p50_ms, phase.p99_ms = result["p50_us"] / 1000, result["p99_us"] / 1000
    sold = result["statuses"].get("200", 0)
    log(
        f"{phase.name}: {phase.rps:,.0f} requests/s, p99 {phase.p99_ms:.1f} ms, {sold} of 100 sold, {phase.statuses}"
    )
    if sold != seed_shape.UNITS:
        raise SystemExit(f"the seed's shape sold {sold} units of {seed_shape.UNITS}")


def wrk(sale_id: int, seconds: int) -> dict:
    command = [
        "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", str(ROOT / "bench" / "buy.lua"),
        URL, "--", str(sale_id),
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def run_phase(phase: Phase, sale_id: int, count: str = "all") -> dict:
    log(f"{phase.name}: warm-up {WARM_UP_SECONDS}s, then {SECONDS}s with {CONNECTIONS} connections")
    wrk(sale_id, WARM_UP_SECONDS)
    result = wrk(sale_id, SECONDS)
    phase.requests = result["requests"]
    phase.seconds = result["duration_us"] / 1e6
    phase.statuses = result["statuses"]
    counted = result["statuses"].get("200", 0) if count == "200" else result["requests"]
    phase.rps = counted / phase.seconds
    phase.p50_ms = result["p50_us"] / 1000
    phase.p99_ms = result["p99_us"] / 1000
    phase.counted = "accepted orders/s" if count == "200" else "requests/s"
    log(
        f"{phase.name}: {phase.rps:,.0f} {phase.counted}, p99 {phase.p99_ms:.1f} ms, statuses {phase.statuses}"
    )
    return result


def main() -> int:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    RESULTS.mkdir(exist_ok=True)
    forget_old_bench_sales()
    processes = start_processes()
    try:
        require_demo_mode(URL)
        herd = Phase("sold-out herd")
        sale = new_sale("bench-sold-out", quantity=1, rate=1_000_000, burst=1_000_000)
        run_phase(herd, sale)

        flood = Phase("over-rate flood (302)")
        sale = new_sale("bench-flood", quantity=1_000_000, rate=1, burst=1)
        run_phase(flood, sale)

        seed = Phase("the seed's shape, POST /order")
        seed_shape_phase(seed)

        in_stock = Phase("in stock (Kafka-acked)")
        quantity = 10_000_000
        sale = new_sale("bench-in-stock", quantity=quantity, rate=1_000_000, burst=1_000_000)
        start = end_offsets(settings.KAFKA_ORDERS_TOPIC)
        log(
            f"{in_stock.name}: warm-up {IN_STOCK_WARM_UP_SECONDS}s, then {SECONDS}s with {CONNECTIONS} connections"
        )
        warm = wrk(sale, IN_STOCK_WARM_UP_SECONDS)
        result = wrk(sale, SECONDS)
        in_stock.requests, in_stock.seconds = result["requests"], result["duration_us"] / 1e6
        in_stock.statuses, in_stock.counted = result["statuses"], "accepted orders/s"
        in_stock.rps = result["statuses"].get("200", 0) / in_stock.seconds
        in_stock.p50_ms, in_stock.p99_ms = result["p50_us"] / 1000, result["p99_us"] / 1000
        log(
            f"{in_stock.name}: {in_stock.rps:,.0f} accepted/s, p99 {in_stock.p99_ms:.1f} ms, statuses {in_stock.statuses}"
        )

        # wrk stops at its deadline without reading the answers still in flight: the
        # server completed those requests (they are sold) but wrk never counted them.
        # So: every unit sold has exactly one message, and the units sold are the
        # answers wrk counted plus at most one in-flight request per connection per run.
        answered = sum(r["statuses"].get(code, 0) for r in (warm, result) for code in ("200", "202"))
        time.sleep(2)  # let acknowledgements of the last in-flight requests land
        on_topic = len(sale_order_messages(sale, start))
        state = live_state(sale)
        sold = quantity - state.remaining
        books = {
            "units sold (Redis)": sold,
            "order messages on the topic": on_topic,
            "200/202 answers counted by wrk": answered,
            "answered after wrk hung up": sold - answered,
        }
        books_ok = on_topic == sold == state.sold and 0 <= sold - answered <= 2 * CONNECTIONS
    finally:
        stop_processes(processes)

    phases = [herd, flood, seed, in_stock]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    print()
    print(
        f"Flux-Gate buy API, {URL}, wrk -t1 -c{CONNECTIONS} -d{SECONDS}s, commit {commit}, {os.cpu_count()} cores"
    )
    print()
    print("| phase | measured | p50 | p99 | statuses | no 5xx |")
    print("|---|---|---|---|---|---|")
    for p in phases:
        print(
            f"| {p.name} | {p.rps:,.0f} {p.counted} | {p.p50_ms:.1f} ms | {p.p99_ms:.1f} ms "
            f"| {p.statuses} | {'ok' if p.passed else 'NO'} |"
        )
    print()
    print(
        "Books after the in-stock phase: "
        + ", ".join(f"{k} {v:,}" for k, v in books.items())
        + (" — ok" if books_ok else " — MISMATCH")
    )
    (RESULTS / "latest.json").write_text(
        json.dumps({"commit": commit, "url": URL, "connections": CONNECTIONS, "seconds": SECONDS,
                    "phases": [asdict(p) for p in phases], "books": books, "books_ok": books_ok}, indent=2)
    )  # fmt: skip
    return 0 if books_ok else 1


if __name__ == "__main__":
    sys.exit(main())
