"""The HA topology's servers as tests/ha sees them (bin/stack up --ha): which node
leads what, killing one with SIGKILL, bringing it back; and a crowd of buyers
that keeps every answer with its time, to tell what was promised and how long
the buy API answered 503."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.support.product import Product
from tests.support.servers import ROOT, STATE_DIR

HA_DIR = STATE_DIR / "ha"
REPORT = ROOT / "test-results" / "ha-faults.txt"


def ha_stack(*args: str) -> str:
    """bin/stack --ha (up is idempotent: it starts again what was killed)."""
    result = subprocess.run(
        [str(ROOT / "bin" / "stack"), *args, "--ha"], capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, (
        f"bin/stack {' '.join(args)} --ha failed:\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout


def node_pid(name: str) -> int:
    """The pid of an HA server: redis-0, sentinel-1, kafka-2 ..."""
    return int((HA_DIR / "run" / f"{name}.pid").read_text())


def kill9(name: str) -> int:
    pid = node_pid(name)
    os.kill(pid, signal.SIGKILL)
    return pid


def redis_primary_node() -> str:
    """The node the Sentinels name primary now (redis-0..2)."""
    import redis
    from django.conf import settings

    host, port = settings.REDIS_SENTINEL_ADDRESSES[0]
    sentinel = redis.Redis(host=host, port=port, socket_timeout=2)
    _, primary_port = sentinel.sentinel_get_master_addr_by_name(settings.REDIS_SENTINEL_MASTER)
    base = int(os.environ.get("FLUX_HA_REDIS_PORT", "6381"))
    return f"redis-{int(primary_port) - base}"


def kafka_orders_leaders() -> Counter:
    """Broker node name (kafka-0..2) -> how many of the orders topic's partitions it leads."""
    from django.conf import settings

    from infra.clients import kafka_admin

    topic = (
        kafka_admin().list_topics(settings.KAFKA_ORDERS_TOPIC, timeout=10).topics[settings.KAFKA_ORDERS_TOPIC]
    )
    return Counter(f"kafka-{p.leader - 1}" for p in topic.partitions.values())


def kafka_in_sync() -> bool:
    """Every partition of the orders topic has all three replicas in sync."""
    from django.conf import settings

    from infra.clients import kafka_admin

    try:
        topic = (
            kafka_admin()
            .list_topics(settings.KAFKA_ORDERS_TOPIC, timeout=5)
            .topics[settings.KAFKA_ORDERS_TOPIC]
        )
    except Exception:
        return False
    return all(len(p.isrs) == 3 for p in topic.partitions.values())


@dataclass
class Answer:
    at: float  # monotonic seconds
    status: int  # 0: no HTTP answer (connection refused, timeout)
    key: str
    shopper: str
    order_id: str | None = None


@dataclass
class Crowd:
    """`threads` buyers over HTTP through nginx, each request a new shopper and
    Idempotency-Key; a 503 or no answer is retried with the same key (as a client
    does) for up to `retry_seconds`. Every answer is kept with its time."""

    product: Product
    sale_id: int
    threads: int = 8
    retry_seconds: float = 60.0
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Crowd:
        for _ in range(self.threads):
            worker = threading.Thread(target=self._buy_until_stopped, daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(60)

    def _buy_until_stopped(self) -> None:
        while not self._stop.is_set():
            key = uuid.uuid4().hex
            shopper = f"ha-{key[:16]}"
            give_up = time.monotonic() + self.retry_seconds
            while True:
                try:
                    status, body = self.product.buy(self.sale_id, shopper, key)
                except OSError:
                    status, body = 0, {}
                answer = Answer(time.monotonic(), status, key, shopper, body.get("order_id"))
                with self._lock:
                    self.answers.append(answer)
                if status not in (0, 502, 503) or time.monotonic() > give_up:
                    break
                time.sleep(0.1)
            if status == 409:
                time.sleep(0.05)  # sold out: the herd keeps asking, a little slower

    # --- what the crowd was told -----------------------------------------------------

    def promised(self) -> dict[str, str]:
        """order id -> shopper, of every 200 (accepted) and 202 (accepted, pending)."""
        return {a.order_id: a.shopper for a in self.answers if a.status in (200, 202) and a.order_id}

    def keys_promised(self) -> dict[str, set[str]]:
        """Idempotency key -> the order ids it was told (one, if idempotency held)."""
        told: dict[str, set[str]] = {}
        for a in self.answers:
            if a.status in (200, 202) and a.order_id:
                told.setdefault(a.key, set()).add(a.order_id)
        return told

    def count(self, *statuses: int) -> int:
        return sum(1 for a in self.answers if a.status in statuses)

    def unavailable_after(self, fault_at: float) -> dict[str, float]:
        """How the buy API answered from the fault on: the span from the first to the
        last 503 (or no answer), the longest run of them with no success between, and counts."""
        after = sorted((a for a in self.answers if a.at >= fault_at), key=lambda a: a.at)
        bad = [a for a in after if a.status in (0, 502, 503)]
        if not bad:
            return {"span_s": 0.0, "longest_s": 0.0, "first_s": 0.0, "unavailable": 0, "answers": len(after)}
        longest, run_start = 0.0, None
        for a in after:
            if a.status in (0, 502, 503):
                run_start = a.at if run_start is None else run_start
                longest = max(longest, a.at - run_start)
            elif a.status in (200, 202, 409):
                run_start = None
        return {
            "span_s": round(bad[-1].at - bad[0].at, 2),
            "longest_s": round(longest, 2),
            "first_s": round(bad[0].at - fault_at, 2),
            "unavailable": len(bad),
            "answers": len(after),
        }


def report(test: str, figures: dict[str, object]) -> None:
    """Print a fault test's figures and add them to test-results/ha-faults.txt."""
    line = (
        f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {test} {json.dumps(figures, sort_keys=True)}"
    )
    print(line)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    with REPORT.open("a") as out:
        out.write(line + "\n")


def books_hold(crowd: Crowd, sale_id: int) -> dict[str, int]:
    """What every fault test ends with, once the consumers have drained: every
    accepted answer (200, or 202 accepted-pending) has exactly one order row, no key
    was told two orders and no shopper has two rows (zero duplicates), and the
    sale's books settle (reconcile: Redis's remaining + units persisted = quantity,
    no drift, no anomaly; zero oversold). Returns the figures."""
    from django.db.models import Count

    from orders.models import Order
    from orders.reconcile import sale_reconcile_until_settled
    from tests.support.servers import wait_for

    promised = crowd.promised()
    assert len(promised) > 50, f"the crowd was hardly accepted ({len(promised)}): the test proves nothing"
    told_twice = {key: ids for key, ids in crowd.keys_promised().items() if len(ids) > 1}
    assert not told_twice, f"keys told two different orders: {list(told_twice.items())[:3]}"
    wanted = list(promised)
    wait_for(
        lambda: Order.objects.filter(order_id__in=wanted).count() == len(wanted),
        120,
        f"all {len(wanted)} accepted orders to be persisted",
    )
    rows = Order.objects.filter(sale_id=sale_id)
    by_id = {str(order_id): user for order_id, user in rows.values_list("order_id", "user_id")}
    lost = [order_id for order_id in wanted if order_id not in by_id]
    assert not lost, f"accepted orders lost: {lost[:5]}"
    wrong = [order_id for order_id in wanted if by_id[order_id] != promised[order_id]]
    assert not wrong, f"orders persisted for another shopper: {wrong[:5]}"
    doubled = list(rows.values("user_id").annotate(n=Count("order_id")).filter(n__gt=1)[:5])
    assert not doubled, f"shoppers with two orders (one key each): {doubled}"
    books = sale_reconcile_until_settled(sale_id=sale_id, seconds=60)
    assert books.settled and books.drift == 0 and books.anomalies == 0, books
    assert books.units_persisted <= books.quantity, books
    return {
        "accepted": crowd.count(200),
        "accepted_pending": crowd.count(202),
        "orders_persisted": books.orders_persisted,
        "persisted_not_told": len(by_id) - len(wanted),
    }


def sale_through_fault(
    product: Product, sale_id: int, fault: Callable[[], object], *, after: float = 15.0
) -> tuple[Crowd, float]:
    """A crowd buys; once it has been accepted a few dozen times the fault is
    injected (`fault()`); the crowd keeps buying until the API has accepted again
    for `after` seconds past the fault (and at least one answer after its last
    503), then stops. Returns the crowd and the fault's monotonic time."""
    from tests.support.servers import wait_for

    crowd = Crowd(product, sale_id).start()
    try:
        wait_for(lambda: len(crowd.promised()) >= 40, 60, "the crowd's first accepted orders")
        fault_at = time.monotonic()
        fault()
        time.sleep(after)
        # Recovered: orders accepted again after the last 503 (bounded: the test then fails).
        wait_for(lambda: _accepting_again(crowd, fault_at), 90, "the buy API to accept orders again")
    finally:
        crowd.stop()
    return crowd, fault_at


def _accepting_again(crowd: Crowd, fault_at: float) -> bool:
    after = [a for a in list(crowd.answers) if a.at >= fault_at]
    last_bad = max((a.at for a in after if a.status in (0, 502, 503)), default=fault_at)
    return sum(1 for a in after if a.at > last_bad and a.status in (200, 202)) >= 20
