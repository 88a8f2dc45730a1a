"""The drain phase of `make bench`: how fast one `manage.py consume_orders`
process persists a sale's backlog.

It pre-produces BENCH_DRAIN_MESSAGES order messages (default 200,000) for one
large sale to topics of its own (prefix `bench.`, so no running consumer takes
them), starts one consumer process on them and times it until every order has
its row in PostgreSQL. Prints orders persisted per second and the lag figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "bench."
os.environ["KAFKA_TOPIC_PREFIX"] = PREFIX  # before Django reads its settings
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flux_admin.settings")

import django  # noqa: E402

django.setup()

from confluent_kafka import Producer  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db.models import Max, Min  # noqa: E402

from infra.clients import kafka_producer_config  # noqa: E402
from infra.kafka import group_commit_to_end  # noqa: E402
from orders.models import Order  # noqa: E402
from orders.topics import topics_ensure  # noqa: E402
from sales import services  # noqa: E402

MESSAGES = int(os.environ.get("BENCH_DRAIN_MESSAGES", "200000"))


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def main() -> dict:
    topics_ensure()
    from bench.run import bench_merchant

    merchant = bench_merchant()
    sale = services.sale_create(
        merchant=merchant,
        product_name="drain",
        sku=f"bench-drain-{uuid.uuid4().hex[:8]}",
        unit_price="1.00",
        quantity=MESSAGES,
    )
    group = f"bench-drain-{uuid.uuid4().hex[:8]}"
    group_commit_to_end(settings.KAFKA_ORDERS_TOPIC, group)  # the group starts exactly at this run's messages

    log(f"drain: producing {MESSAGES:,} order messages to {settings.KAFKA_ORDERS_TOPIC}")
    producer = Producer(
        {**kafka_producer_config(), "linger.ms": 20, "queue.buffering.max.messages": 1_000_000}
    )
    started_producing = time.monotonic()
    for n in range(MESSAGES):
        order_id = str(uuid.uuid4())
        message = json.dumps(
            {"order_id": order_id, "sale_id": sale.pk, "sku": sale.sku, "user_id": f"d{n}", "quantity": 1,
             "unit_price": "1.00", "currency": "EUR", "accepted_at_ms": int(time.time() * 1000)}
        )  # fmt: skip
        while True:
            try:
                producer.produce(settings.KAFKA_ORDERS_TOPIC, key=order_id.encode(), value=message.encode())
                break
            except BufferError:
                producer.poll(0.1)
        if n % 10_000 == 0:
            producer.poll(0)
    producer.flush(60)
    log(f"drain: produced in {time.monotonic() - started_producing:.1f}s; starting one consumer")

    env = {**os.environ, "KAFKA_TOPIC_PREFIX": PREFIX}
    consumer_log = open(ROOT / ".stack" / "logs" / "bench-drain-consumer.log", "w")  # noqa: SIM115
    started = time.monotonic()
    consumer = subprocess.Popen(
        [sys.executable, "manage.py", "consume_orders", "--group-id", group, "--batch-size", "5000"],
        cwd=ROOT, env=env, stdout=consumer_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        persisted = 0
        while persisted < MESSAGES:
            time.sleep(0.5)
            persisted = Order.objects.filter(sale=sale).count()
            if time.monotonic() - started > 600:
                raise SystemExit(f"drain: only {persisted:,} of {MESSAGES:,} persisted after 600s")
        seconds = time.monotonic() - started
    finally:
        consumer.terminate()
        consumer.wait(30)
    window = Order.objects.filter(sale=sale).aggregate(first=Min("persisted_at"), last=Max("persisted_at"))
    persisting = (window["last"] - window["first"]).total_seconds()
    result = {
        "messages": MESSAGES,
        "seconds_from_consumer_start": round(seconds, 2),
        "orders_per_second_from_start": round(MESSAGES / seconds),
        "seconds_first_to_last_row": round(persisting, 2),
        "orders_per_second_while_writing": round(MESSAGES / persisting) if persisting else None,
    }
    log(
        f"drain: {MESSAGES:,} orders persisted {seconds:.1f}s after the consumer started "
        f"({result['orders_per_second_from_start']:,}/s including start-up; "
        f"{result['orders_per_second_while_writing']:,}/s between the first and the last row)"
    )
    return result


if __name__ == "__main__":
    (ROOT / "bench-results").mkdir(exist_ok=True)
    (ROOT / "bench-results" / "drain.json").write_text(json.dumps(main(), indent=2))
