"""Crash tests: a sale under concurrent load, a fault injected into the real
pipeline, recovery, then the books: orders in PostgreSQL = accepted answers, no
duplicates, sold <= quantity, stock + orders = quantity."""

from __future__ import annotations

import signal
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db.models import Sum

from orders.buy import decision
from orders.buy.outcomes import Outcome
from orders.models import Order
from sales.live import live_state
from tests.factories import make_sale
from tests.support.consumer import fresh_group, start_consumer
from tests.support.servers import STATE_DIR, stack, stop_process, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def sell(sale_id: int, buyers: int, threads: int = 16, prefix: str = "b", attempt: str = "") -> list[str]:
    """Shoppers `<prefix>0..` buy one unit each, concurrently; the accepted order
    ids. The same prefix and attempt again are retries (same keys); another
    attempt is the same shoppers buying again (new keys)."""
    accepted: list[str] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        result = decision.buy(
            sale_id=sale_id,
            user_id=f"{prefix}{n}",
            quantity=1,
            idempotency_key=f"crash-{prefix}{attempt}-{sale_id}-{n}",
        )
        if result.outcome in (Outcome.ACCEPTED, Outcome.PENDING):
            import json

            with lock:
                accepted.append(json.loads(result.body)["order_id"])

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(buyers)))
    return accepted


def log_of(name: str) -> str:
    return (STATE_DIR / "logs" / f"test-{name}.log").read_text()


def persisted(sale_id: int) -> int:
    return Order.objects.filter(sale_id=sale_id).count()


def assert_books(sale, accepted: list[str]) -> None:
    rows = set(str(pk) for pk in Order.objects.filter(sale=sale).values_list("order_id", flat=True))
    assert rows == set(accepted)  # every accepted order, once, and nothing else
    units = Order.objects.filter(sale=sale).aggregate(units=Sum("quantity"))["units"]
    state = live_state(sale.pk)
    sale.refresh_from_db()
    assert units <= sale.quantity
    assert state.remaining + units == sale.quantity
    assert sale.persisted_units == units
    assert not sale.oversold_flag


def test_consumer_killed_mid_drain(owner) -> None:
    sale = make_sale(owner, live=True, quantity=1500, rate=1_000_000, burst=1_000_000)
    group = fresh_group()
    accepted = sell(sale.pk, 2000)
    assert len(accepted) == 1500

    consumer = start_consumer(group, "consumer-killed", batch_size=50)
    wait_for(lambda: persisted(sale.pk) >= 200, 30, "the consumer to be mid-drain")
    consumer.send_signal(signal.SIGKILL)
    consumer.wait()
    assert persisted(sale.pk) < 1500, "the drain finished before the kill; make the batch smaller"

    restarted = start_consumer(group, "consumer-restarted", batch_size=500)
    try:
        wait_for(lambda: persisted(sale.pk) == 1500, 60, "the restarted consumer to catch up")
    finally:
        stop_process(restarted)
    assert_books(sale, accepted)


def test_postgres_stopped_mid_drain(owner, restart_server) -> None:
    sale = make_sale(owner, live=True, quantity=1200, rate=1_000_000, burst=1_000_000)
    group = fresh_group()
    accepted = sell(sale.pk, 1200)
    # Small batches keep the drain going for seconds: PostgreSQL must stop before it ends.
    consumer = start_consumer(group, "consumer-pg-outage", batch_size=5)
    try:
        wait_for(lambda: persisted(sale.pk) >= 100, 30, "the consumer to be mid-drain")
        from django.db import connection

        connection.close()
        restart_server.append("postgres")
        stack("down", "postgres")
        import time

        time.sleep(3)  # the consumer meets the outage and backs off
        stack("up", "postgres")
        wait_for(lambda: persisted(sale.pk) == 1200, 90, "the consumer to finish after PostgreSQL came back")
    finally:
        stop_process(consumer)
    assert "postgresql unavailable" in log_of("consumer-pg-outage")  # it really met the outage
    assert_books(sale, accepted)


def test_sigterm_finishes_the_batch_and_exits_cleanly(owner) -> None:
    sale = make_sale(owner, live=True, quantity=300, rate=1_000_000, burst=1_000_000)
    group = fresh_group()
    accepted = sell(sale.pk, 300)
    consumer = start_consumer(group, "consumer-sigterm", batch_size=100)
    wait_for(lambda: persisted(sale.pk) == 300, 30, "the drain")
    consumer.send_signal(signal.SIGTERM)
    assert consumer.wait(30) == 0
    assert "stopped cleanly: offsets committed" in log_of("consumer-sigterm")
    assert_books(sale, accepted)


class BackgroundShoppers:
    """Shoppers who keep buying (new shopper, new key each time) from a few
    threads until stopped: the concurrent load a fault is injected into."""

    def __init__(self, sale_id: int, prefix: str, threads: int = 4) -> None:
        self.sale_id, self.prefix = sale_id, prefix
        self.accepted: list[str] = []
        self.outcomes: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._next = iter(range(10**9))
        self._threads = [threading.Thread(target=self._shop, daemon=True) for _ in range(threads)]
        for thread in self._threads:
            thread.start()

    def _shop(self) -> None:
        import json
        import time

        while not self._stop.is_set():
            with self._lock:
                n = next(self._next)
            # A shopper answered 503 retries with the same key, as Retry-After asks:
            # the decision may have been made just as the connection broke, and the
            # retry is what tells the shopper the truth.
            for _ in range(150):
                result = decision.buy(
                    sale_id=self.sale_id,
                    user_id=f"{self.prefix}{n}",
                    quantity=1,
                    idempotency_key=f"bg-{self.prefix}-{self.sale_id}-{n}",
                )
                with self._lock:
                    self.outcomes[result.outcome] += 1
                    if result.outcome in (Outcome.ACCEPTED, Outcome.PENDING):
                        self.accepted.append(json.loads(result.body)["order_id"])
                if result.outcome != Outcome.UNAVAILABLE:
                    break
                time.sleep(0.2)
            time.sleep(0.005)

    def count(self) -> int:
        with self._lock:
            return len(self.accepted)

    def stop(self) -> list[str]:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        return self.accepted


def test_kafka_stopped_mid_sale(owner, restart_server) -> None:
    """Kafka stops for seconds while shoppers buy: the API answers 503 meanwhile
    and reserves nothing for them; nothing accepted before, during (202) or after
    is lost."""
    import time

    from orders.publisher import order_publisher

    sale = make_sale(owner, live=True, quantity=100_000, rate=1_000_000, burst=1_000_000)
    group = fresh_group()
    consumer = start_consumer(group, "consumer-kafka-outage", batch_size=200)  # lives through the outage
    shoppers = BackgroundShoppers(sale.pk, "k")
    try:
        wait_for(lambda: shoppers.count() >= 200, 30, "the sale to be under way")
        restart_server.append("kafka")
        stack("down", "kafka")
        time.sleep(4)
        refused_during = shoppers.outcomes[Outcome.UNAVAILABLE]
        stack("up", "kafka")
        wait_for(lambda: order_publisher().available, 30, "the producer to see Kafka again")
        before = shoppers.count()
        wait_for(lambda: shoppers.count() >= before + 200, 30, "buying to resume")
    finally:
        accepted = shoppers.stop()
    assert refused_during > 0, shoppers.outcomes  # the API said 503 while Kafka was down
    assert live_state(sale.pk).sold == len(accepted)  # and reserved nothing for those

    try:  # answered 202 around the outage: handed over again
        persist_all_with_republisher(sale.pk, accepted)
    finally:
        stop_process(consumer)
    assert "kafka unavailable" in log_of("consumer-kafka-outage")  # it met the outage and said so
    assert_books(sale, accepted)


def test_redis_restarted_mid_sale(owner, restart_server) -> None:
    """Redis restarts while shoppers buy. With the append-only file it remembers
    every reservation and per-shopper count: no unit is sold twice."""
    from infra.clients import reset_clients

    sale = make_sale(owner, live=True, quantity=100_000, per_user_limit=1, rate=1_000_000, burst=1_000_000)
    group = fresh_group()
    first = sell(sale.pk, 300)
    shoppers = BackgroundShoppers(sale.pk, "r")
    try:
        wait_for(lambda: shoppers.count() >= 200, 30, "the sale to be under way")
        restart_server.append("redis")
        stack("down", "redis")
        stack("up", "redis")
        reset_clients()
        before = shoppers.count()
        wait_for(lambda: shoppers.count() >= before + 200, 30, "buying to resume")
    finally:
        during = shoppers.stop()
    decision.forget_sold_out_flags()
    accepted = first + during
    assert live_state(sale.pk).sold == len(accepted)
    # Retries replay the same orders; the same shoppers with new keys are at their
    # limit (the per-user record survived the restart).
    assert sorted(sell(sale.pk, 300)) == sorted(first)
    assert sell(sale.pk, 300, attempt="again") == []
    assert live_state(sale.pk).sold == len(accepted)
    # A decision made as Redis went down reached its shopper only through a retry's
    # replay, and its message was never produced: that is the re-publisher's job.

    consumer = start_consumer(group, "consumer-redis-restart", batch_size=500)
    try:
        persist_all_with_republisher(sale.pk, accepted)
    finally:
        stop_process(consumer)
    assert_books(sale, accepted)


def test_api_worker_killed_mid_load(owner) -> None:
    """kill -9 one web process while shoppers buy over HTTP. Shoppers whose
    connection broke retry with the same key (as a client should); reservations
    the dead process made but never handed to Kafka are re-published."""
    import http.client
    import json
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from orders.republish import ledger_republish
    from tests.support.servers import free_port, start_process

    sale = make_sale(owner, live=True, quantity=3000, rate=1_000_000, burst=1_000_000)
    group = fresh_group()
    port = free_port()
    granian = str(Path(sys.executable).parent / "granian")
    server = start_process(
        [granian, "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
         "--blocking-threads", "4", "--respawn-failed-workers", "--no-access-log", "flux_admin.wsgi:application"],
        "granian-kill",
        FLUX_DEMO_MODE="true",  # the body's user_id names each shopper
    )  # fmt: skip
    accepted: dict[str, str] = {}  # idempotency key -> order id
    lock = threading.Lock()

    def post(key: str, user: str) -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("POST", f"/api/v1/sales/{sale.pk}/buy", json.dumps({"user_id": user}),
                               {"Content-Type": "application/json", "Idempotency-Key": key})  # fmt: skip
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()

    def shopper(n: int) -> None:
        key = f"kill-{sale.pk}-{n}"
        for _ in range(50):  # retry the same key until an answer comes back
            try:
                status, body = post(key, f"k{n}")
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
                continue
            if status in (200, 202):
                with lock:
                    accepted[key] = body["order_id"]
            if status != 503:
                return
            time.sleep(0.2)
        raise AssertionError(f"{key}: no answer after 50 tries")

    try:
        wait_for(lambda: _answers(port), 30, "the web server")
        with ThreadPoolExecutor(64) as pool:
            futures = [pool.submit(shopper, n) for n in range(2000)]
            wait_for(lambda: len(accepted) >= 400, 60, "the load to be under way")
            workers = subprocess.run(
                ["pgrep", "-P", str(server.pid)], capture_output=True, text=True
            ).stdout.split()
            assert workers, "no granian worker process found"
            os.kill(int(workers[0]), signal.SIGKILL)
            for future in futures:
                future.result()
    finally:
        stop_process(server)

    assert len(accepted) == 2000
    assert live_state(sale.pk).sold == 2000  # retries replayed, nothing sold twice
    ledger_republish(grace_ms=0)  # what the dead process never handed to Kafka
    consumer = start_consumer(group, "consumer-api-killed", batch_size=500)
    try:
        wait_for(lambda: persisted(sale.pk) == 2000, 60, "every accepted order persisted")
    finally:
        stop_process(consumer)
    assert_books(sale, list(accepted.values()))


def _answers(port: int) -> bool:
    import http.client

    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        return True
    except OSError:
        return False


def test_two_consumers_share_the_partitions(owner) -> None:
    sale = make_sale(owner, live=True, quantity=3000, rate=1_000_000, burst=1_000_000)
    group = fresh_group()
    first = start_consumer(group, "consumer-a", batch_size=100)
    second = start_consumer(group, "consumer-b", batch_size=100)
    try:
        # Wait for the group to settle: both hold partitions (a rebalance gives each half).
        wait_for(
            lambda: _holds_partitions("consumer-a") and _holds_partitions("consumer-b"),
            60,
            "both consumers in the group",
        )
        accepted = sell(sale.pk, 3000)
        wait_for(lambda: persisted(sale.pk) == 3000, 90, "both consumers to persist everything")
    finally:
        stop_process(first)
        stop_process(second)
    assert "persisted" in log_of("consumer-a") and "persisted" in log_of("consumer-b")  # both did work
    assert_books(sale, accepted)


def _holds_partitions(name: str) -> bool:
    lines = [
        line for line in log_of(name).splitlines() if line.startswith(("assigned partitions", "revoked"))
    ]
    return bool(lines) and lines[-1].startswith("assigned") and lines[-1] != "assigned partitions []"


def diagnose(sale_id: int, accepted: list[str]) -> str:
    """Where are the accepted orders that have no row? (printed when a drain times out)"""
    from infra.clients import redis_client
    from sales.keys import ledger_key, pending_key
    from tests.support.orders import orders_on_topic

    rows = {str(pk) for pk in Order.objects.filter(sale_id=sale_id).values_list("order_id", flat=True)}
    missing = [order_id for order_id in accepted if order_id not in rows]
    on_topic = {o["order_id"] for o in orders_on_topic(sale_id)}
    client = redis_client()
    return (
        "\n".join(
            f"missing {order_id}: on topic {order_id in on_topic}, in ledger {client.hexists(ledger_key(sale_id), order_id)}, "
            f"pending score {client.zscore(pending_key(sale_id), order_id)}"
            for order_id in missing[:20]
        )
        + f"\n{len(missing)} missing of {len(accepted)}; rows {len(rows)}"
    )


def republishing(condition):
    """`condition`, with a re-publisher pass every 2 s while it does not hold
    (what Celery beat does every 5 s in the product)."""
    import time

    from orders.republish import ledger_republish

    last = [0.0]

    def check() -> bool:
        if condition():
            return True
        if time.monotonic() - last[0] > 2:
            ledger_republish(grace_ms=0)
            last[0] = time.monotonic()
        return False

    return check


def persist_all_with_republisher(sale_id: int, accepted: list[str]) -> None:
    """Wait until every accepted order has its row, running the re-publisher as
    Celery beat would; on a timeout, print where the missing orders are."""
    try:
        wait_for(
            republishing(lambda: persisted(sale_id) == len(accepted)), 60, "every accepted order persisted"
        )
    except BaseException:
        print(diagnose(sale_id, accepted))
        raise
