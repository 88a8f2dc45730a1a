"""`make bench`'s side-by-side phase: Flux-Gate against the Node.js original, in one run.

Starts the opponent itself (../shared/seed/opponent/run: the seed's ingestion API,
SEED_LOG=0, its best case, on a Redis of its own and a topic of its own on our
Kafka) and our product (bin/run), and measures the same wrk client against each,
alternated A/B then B/A (the seed first in odd rounds, ours first in even ones, so
that neither side always runs second), BENCH_VERSUS_ROUNDS rounds of
BENCH_VERSUS_SECONDS each (4 of 5 s: the same time as 2 of 10 s, with each side
meeting more of the machine's slow and fast spells):

  the seed's shape      POST /init 100 units, then 100 connections on POST /order,
                        every request a new shopper and key (the seed's k6 test)
  sold-out herd         ours answered from memory, against the seed's shape
  in stock              32 connections, every request a new reservation acknowledged
                        by Kafka (the opponent's rate limit lifted for it; our
                        consumer persisting meanwhile)
  ... with identity     the same on our side with demo mode off and a storefront's
                        X-Shopper-Token on every request (a new shopper each); the
                        opponent trusts the body's userId as it always does

Around every measured run it reads each process's CPU time (/proc), so the table
says what a request or an order cost each component. Targets (issue 20) are
printed beside each ratio. The verdict of a load is its pooled ratio: all of ours
(requests or orders over all of ours' seconds) against all of the seed's, the rounds
taken together; on this machine the speed of one slot swings by ±30% against the
next, which a single round's ratio takes for a difference between the sides. Each
round's own ratio is printed too. Results go to bench-results/versus.json.

    .venv/bin/python bench/versus.py      (nothing may serve on FLUX_PORT or :3000)
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flux_admin.settings")

import django  # noqa: E402

django.setup()

import run as bench  # noqa: E402  (bench/, this script's folder)
import seed_shape  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402

from infra.clients import kafka_admin  # noqa: E402
from orders.buy import identity  # noqa: E402
from sales.storefront import storefront_key_create, storefront_key_revoke  # noqa: E402

OURS = bench.URL
SEED = "http://127.0.0.1:3000"
OPPONENT = ROOT.parent / "shared" / "seed" / "opponent" / "run"
SEED_REDIS_PORT = int(os.environ.get("BENCH_SEED_REDIS_PORT", "6391"))
SEED_TOPIC = f"{settings.KAFKA_TOPIC_PREFIX}bench.seed-orders"
SECONDS = int(os.environ.get("BENCH_VERSUS_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_VERSUS_ROUNDS", "4"))
IN_STOCK_CONNECTIONS = 32
RESULTS = ROOT / "bench-results"

# (load, target ratio of ours to the seed's, what is counted)
TARGETS = {
    "the seed's shape": 1.5,
    "sold-out herd (ours) vs the seed's shape": 2.0,
    "in stock, Kafka-acked": 1.2,
    "the seed's shape, X-Shopper-Token": 1.2,
    "in stock, Kafka-acked, X-Shopper-Token": 1.0,
}
# In stock, our p99 may be no worse than the seed's.
P99_BOUND = {"in stock, Kafka-acked"}


def log(message: str) -> None:
    print(f"[versus] {message}", flush=True)


# --- CPU per component ---------------------------------------------------------------------


def _component(comm: str, cmdline: str) -> str | None:
    if "serve_front" in cmdline:
        return "front"
    if "granian" in cmdline:
        return "web (pages)"
    if comm == "redis-server":
        return "Redis (seed's)" if f":{SEED_REDIS_PORT}" in cmdline else "Redis"
    if "consume_orders" in cmdline:
        return "consumer"
    if comm == "java" and "kafka" in cmdline.lower():
        return "Kafka"
    names = {"nginx": "nginx", "node": "seed (node)", "postgres": "PostgreSQL", "wrk": "wrk (client)"}
    return names.get(comm)


def cpu_seconds() -> dict[str, float]:
    """CPU seconds (user + system) used so far, per component, by the running processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: collections.Counter[str] = collections.Counter()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm, rest = stat.split(" (", 1)[1].rsplit(") ", 1)
        name = _component(comm, cmdline)
        if name is not None:
            fields = rest.split()
            totals[name] += (int(fields[11]) + int(fields[12])) / ticks
    return dict(totals)


# --- one measured run ------------------------------------------------------------------------


@dataclass
class Run:
    load: str
    side: str  # "seed" or "ours"
    round: int
    rate: float = 0.0  # requests/s, or accepted orders/s in stock
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    statuses: dict = field(default_factory=dict)
    cpu_us: dict = field(default_factory=dict)  # µs of CPU per counted request/order, per component
    counted: int = 0  # requests (or accepted orders in stock) ...
    seconds: float = 0.0  # ... over this long: what the pooled ratio adds up


def wrk(url: str, target: str, connections: int, seconds: int, tokens: Path | None = None) -> dict:
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(ROOT / "bench" / "buy.lua"),
        url, "--", target, *([str(tokens)] if tokens else []),
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def measured(run: Run, go: Callable[[], dict], count_200: bool) -> Run:
    before = cpu_seconds()
    result = go()
    after = cpu_seconds()
    seconds = result["duration_us"] / 1e6
    counted = result["statuses"].get("200", 0) if count_200 else result["requests"]
    run.rate = counted / seconds
    run.counted, run.seconds = counted, seconds
    run.p50_ms, run.p99_ms = result["p50_us"] / 1000, result["p99_us"] / 1000
    run.statuses = result["statuses"]
    run.cpu_us = {
        name: round((after.get(name, 0) - before.get(name, 0)) / max(counted, 1) * 1e6, 1)
        for name in after
        if after.get(name, 0) - before.get(name, 0) > 0.05
    }
    log(
        f"{run.load} [{run.side}, round {run.round}]: {run.rate:,.0f}/s, p99 {run.p99_ms:.1f} ms, {run.statuses}"
    )
    return run


# --- the two servers -----------------------------------------------------------------------


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def opponent(limit: int) -> Iterator[None]:
    """The seed's API on :3000, its own Redis, its own topic; stopped after."""
    if not OPPONENT.exists():
        raise SystemExit(f"the opponent is missing: {OPPONENT}")
    admin = kafka_admin()
    if SEED_TOPIC not in admin.list_topics(timeout=10).topics:
        from confluent_kafka.admin import NewTopic

        for future in admin.create_topics(
            [NewTopic(SEED_TOPIC, num_partitions=1, replication_factor=1)]
        ).values():
            with contextlib.suppress(Exception):  # made meanwhile by another run
                future.result()
    data = tempfile.mkdtemp(prefix="flux-seed-redis-")
    redis_server = subprocess.Popen(
        ["redis-server", "--port", str(SEED_REDIS_PORT), "--bind", "127.0.0.1", "--dir", data],
        stdout=subprocess.DEVNULL,
    )
    env = {
        **os.environ,
        "REDIS_PORT": str(SEED_REDIS_PORT),
        "KAFKA_BROKER": settings.KAFKA_BOOTSTRAP_SERVERS.split(",")[0],
        "SEED_TOPIC": SEED_TOPIC,
        "SEED_LOG": "0",
        "SEED_LIMIT": str(limit),
    }
    log(f"starting the opponent (SEED_LIMIT={limit}; its first start builds it with npm)")
    node = subprocess.Popen(
        ["bash", str(OPPONENT)], env=env, stdout=open(RESULTS / "opponent.log", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not port_open(3000):
            if node.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the opponent did not start; see {RESULTS / 'opponent.log'}")
            time.sleep(0.5)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.pid, signal.SIGTERM)
        node.wait(20)
        redis_server.terminate()
        redis_server.wait(20)
        shutil.rmtree(data, ignore_errors=True)
        while port_open(3000):
            time.sleep(0.2)


@contextlib.contextmanager
def ours(*, demo: bool) -> Iterator[None]:
    """Our product under bin/run, with or without demo mode; stopped after."""
    log(f"starting Flux-Gate (bin/run, FLUX_DEMO_MODE={'true' if demo else 'false'})")
    env = {**os.environ, "FLUX_DEMO_MODE": "true" if demo else "false"}
    processes = subprocess.Popen(
        [str(ROOT / "bin" / "run")], cwd=ROOT, env=env,
        stdout=open(ROOT / ".stack" / "logs" / "bench-versus.log", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not bench.serving():
            if time.monotonic() > deadline or processes.poll() is not None:
                raise SystemExit("Flux-Gate did not start; see .stack/logs/bench-versus.log")
            time.sleep(0.5)
        time.sleep(2)  # every process up, not only the front
        yield
    finally:
        processes.send_signal(signal.SIGINT)
        processes.wait(90)


def tokens_file(merchant_username: str, count: int, directory: Path) -> tuple[Path, object]:
    """`count` X-Shopper-Tokens of new shoppers of the merchant, one a line."""
    merchant = get_user_model().objects.get(username=merchant_username)
    key, secret = storefront_key_create(merchant=merchant, name="make bench versus")
    expires = int(time.time()) + settings.SHOPPER_TOKEN_MAX_SECONDS - 60
    run_id = os.urandom(4).hex()
    path = directory / f"tokens-{run_id}.txt"
    with path.open("w") as out:
        for n in range(count):
            out.write(
                identity.shopper_token_sign(
                    key_id=key.key_id, secret=secret, shopper_ref=f"v{run_id}-{n}", expires=expires
                )
                + "\n"
            )
    return path, key


# --- the loads -----------------------------------------------------------------------------


def seed_shape_run(url: str, side: str, n: int, load: str, api_token: str | None, tokens: Path | None) -> Run:
    seed_shape.init(url, api_token)
    return measured(Run(load, side, n), lambda: seed_shape.crowd(url, SECONDS, tokens), count_200=False)


def herd_run(n: int) -> Run:
    sale = bench.new_sale("bench-sold-out", quantity=1, rate=1_000_000, burst=1_000_000)
    wrk(OURS, str(sale), seed_shape.CONNECTIONS, 2)  # sells the one unit: the rest is the herd
    return measured(
        Run("sold-out herd (ours) vs the seed's shape", "ours", n),
        lambda: wrk(OURS, str(sale), seed_shape.CONNECTIONS, SECONDS),
        count_200=False,
    )


def in_stock_seed(n: int, load: str) -> Run:
    request = urllib.request.Request(
        f"{SEED}/init", data=json.dumps({"productId": seed_shape.PRODUCT, "quantity": 10_000_000}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )  # fmt: skip
    urllib.request.urlopen(request, timeout=10).close()
    return measured(
        Run(load, "seed", n),
        lambda: wrk(SEED, f"sku:{seed_shape.PRODUCT}", IN_STOCK_CONNECTIONS, SECONDS),
        count_200=True,
    )


def in_stock_ours(n: int, load: str, tokens: Path | None, merchant: object | None = None) -> Run:
    fields = {"quantity": 10_000_000, "rate": 1_000_000, "burst": 1_000_000}
    sale = bench.new_sale("bench-in-stock", **fields) if merchant is None else new_sale_of(merchant, **fields)
    return measured(
        Run(load, "ours", n),
        lambda: wrk(OURS, str(sale), IN_STOCK_CONNECTIONS, SECONDS, tokens),
        count_200=True,
    )


def new_sale_of(merchant: object, **fields: object) -> int:
    """A fresh live in-stock sale of `merchant` (the one whose key signs the tokens)."""
    from sales import services
    from sales.models import OPEN_STATUSES, Sale

    for old in Sale.objects.filter(merchant=merchant, sku="bench-in-stock-tokens", status__in=OPEN_STATUSES):
        services.sale_end(sale_id=old.pk)
    sale = services.sale_create(
        merchant=merchant, product_name="bench", sku="bench-in-stock-tokens", unit_price="1.00", **fields
    )
    live = services.sale_go_live(sale_id=sale.pk).pk
    time.sleep(bench.keys.SKU_CACHE_MS / 1000 + 0.2)  # as bench.new_sale: the SKU's takeover pause
    return live


# --- the table -----------------------------------------------------------------------------


def in_turn(n: int, seed: Callable[[], Run], mine: Callable[[], Run]) -> list[Run]:
    """One round's pair of runs: the seed first in odd rounds, ours first in even ones."""
    if n % 2:
        return [seed(), mine()]
    ours = mine()
    return [seed(), ours]


def _row(load: str, target: float, round_: int | str, mine: list[Run], theirs: list[Run]) -> dict:
    """The verdict of one load over `mine` and `theirs` (one round's runs, or all of them)."""
    ours_rate = sum(r.counted for r in mine) / sum(r.seconds for r in mine)
    seed_rate = sum(r.counted for r in theirs) / sum(r.seconds for r in theirs)
    ours_p99 = sum(r.p99_ms for r in mine) / len(mine)  # pooled: the rounds' mean p99
    seed_p99 = sum(r.p99_ms for r in theirs) / len(theirs)
    ratio = ours_rate / seed_rate if seed_rate else 0.0
    passed = ratio >= target and (load not in P99_BOUND or ours_p99 <= seed_p99)
    no_5xx = not any(str(code).startswith("5") for r in mine for code in r.statuses)
    return {
        "load": load, "round": round_, "seed": seed_rate, "seed_p99_ms": seed_p99,
        "ours": ours_rate, "ours_p99_ms": ours_p99, "ratio": ratio, "target": target,
        "passed": passed and no_5xx,
    }  # fmt: skip


def verdicts(runs: list[Run]) -> list[dict]:
    """Per load, a row per round and the pooled row (round "all"), which is the verdict."""
    rows = []
    for load, target in TARGETS.items():
        seed_load = "the seed's shape" if load.startswith("sold-out herd") else load
        seed_load = seed_load.replace(", X-Shopper-Token", ", X-Shopper-Token (seed: body userId)")
        mine = {r.round: r for r in runs if r.load == load and r.side == "ours"}
        theirs = {r.round: r for r in runs if r.load == seed_load and r.side == "seed"}
        rounds = sorted(set(mine) & set(theirs))
        if not rounds:
            continue
        rows.extend(_row(load, target, n, [mine[n]], [theirs[n]]) for n in rounds)
        rows.append(_row(load, target, "all", [mine[n] for n in rounds], [theirs[n] for n in rounds]))
    return rows


def print_table(runs: list[Run], rows: list[dict], commit: str) -> None:
    print()
    print(f"Flux-Gate against the seed's Node.js API, side by side, commit {commit}, {os.cpu_count()} cores,")
    print(
        f"wrk -t1, {SECONDS} s per run, {ROUNDS} rounds alternated (seed first in odd rounds, ours in even)"
    )
    print("The verdict of each load is its row 'all': every run of each side pooled.")
    print()
    print("| load | round | seed | Flux-Gate | ratio | target | |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['load']} | {row['round']} | {row['seed']:,.0f} /s, p99 {row['seed_p99_ms']:.1f} ms "
            f"| {row['ours']:,.0f} /s, p99 {row['ours_p99_ms']:.1f} ms | {row['ratio']:.2f}× "
            f"| ≥ {row['target']}×{' and p99 ≤' if row['load'] in P99_BOUND else ''} "
            f"| {('ok' if row['passed'] else 'MISSED') if row['round'] == 'all' else ''} |"
        )
    print()
    print("CPU per counted request (per accepted order in stock), µs, by component:")
    print()
    for run in runs:
        parts = ", ".join(f"{name} {us:g}" for name, us in sorted(run.cpu_us.items(), key=lambda kv: -kv[1]))
        print(f"- {run.load} [{run.side}, round {run.round}]: {parts}")


def main() -> int:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    if bench.serving() or port_open(3000):
        raise SystemExit(f"stop what serves {OURS} or :3000 first: this phase starts both sides itself")
    RESULTS.mkdir(exist_ok=True)
    bench.forget_old_bench_sales()
    api_token = bench.demo_token()
    demo_merchant = settings.FLUX_DEMO_MERCHANT
    runs: list[Run] = []
    keys = []
    work = Path(tempfile.mkdtemp(prefix="flux-versus-"))
    try:
        shape_tokens, key = tokens_file(demo_merchant, 200_000, work)
        keys.append(key)
        with opponent(limit=50):
            with ours(demo=True):
                for n in range(1, ROUNDS + 1):
                    runs += in_turn(
                        n,
                        lambda n=n: seed_shape_run(SEED, "seed", n, "the seed's shape", None, None),
                        lambda n=n: seed_shape_run(OURS, "ours", n, "the seed's shape", api_token, None),
                    )
                    runs.append(herd_run(n))
            with ours(demo=False):
                for n in range(1, ROUNDS + 1):
                    load = "the seed's shape, X-Shopper-Token"
                    runs += in_turn(
                        n,
                        lambda n=n, load=load: seed_shape_run(
                            SEED, "seed", n, load + " (seed: body userId)", None, None
                        ),
                        lambda n=n, load=load: seed_shape_run(OURS, "ours", n, load, api_token, shape_tokens),
                    )
        with opponent(limit=1_000_000_000):
            bench_merchant = bench.bench_merchant()
            with ours(demo=False):
                load = "in stock, Kafka-acked, X-Shopper-Token"
                in_stock_seed(0, "warm-up")
                tokens, key = tokens_file(bench_merchant.username, 150_000, work)
                keys.append(key)
                in_stock_ours(0, "warm-up", tokens, bench_merchant)
                for n in range(1, ROUNDS + 1):
                    tokens, key = tokens_file(bench_merchant.username, 150_000, work)
                    keys.append(key)
                    runs += in_turn(
                        n,
                        lambda n=n, load=load: in_stock_seed(n, load + " (seed: body userId)"),
                        lambda n=n, load=load, tokens=tokens: in_stock_ours(n, load, tokens, bench_merchant),
                    )
            with ours(demo=True):
                in_stock_ours(0, "warm-up", None)
                for n in range(1, ROUNDS + 1):
                    runs += in_turn(
                        n,
                        lambda n=n: in_stock_seed(n, "in stock, Kafka-acked"),
                        lambda n=n: in_stock_ours(n, "in stock, Kafka-acked", None),
                    )
    finally:
        for key in keys:
            storefront_key_revoke(key=key)
        shutil.rmtree(work, ignore_errors=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    rows = verdicts(runs)
    print_table(runs, rows, commit)
    (RESULTS / "versus.json").write_text(
        json.dumps({"commit": commit, "seconds": SECONDS, "rounds": ROUNDS, "rows": rows,
                    "runs": [asdict(r) for r in runs]}, indent=2)
    )  # fmt: skip
    return 0 if all(row["passed"] for row in rows if row["round"] == "all") else 1


if __name__ == "__main__":
    sys.exit(main())
