"""Helpers for the order pipeline's tests: raw messages in, dead letters out,
and the real consumer (in-process or as `manage.py consume_orders`)."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, Message, Producer, TopicPartition
from django.conf import settings

from infra.clients import kafka_producer_config
from orders.consumer import OrderConsumer
from tests.support.orders import commit_orders_topic_to_end
from tests.support.servers import ROOT, start_process


def fresh_group() -> str:
    """A consumer group that starts at the current end of the orders topic, so a
    test's consumer sees only the test's messages."""
    group = f"test-consumer-{uuid.uuid4().hex[:8]}"
    commit_orders_topic_to_end(group)
    return group


def produce_raw(values: list[bytes], partition: int | None = None) -> None:
    """Produce as the API would (a key per order, so any partition), or all to one
    partition when the test needs the consumer to read them in this order."""
    producer = Producer(kafka_producer_config())
    for value in values:
        where = {} if partition is None else {"partition": partition}
        producer.produce(settings.KAFKA_ORDERS_TOPIC, value=value, key=uuid.uuid4().bytes, **where)
    assert producer.flush(15) == 0


def consume_dead_letters(start: dict[int, int], count: int, seconds: float = 20) -> list[Message]:
    """The next `count` messages on the dead-letter topic after `start`."""
    topic = settings.KAFKA_ORDERS_DLQ_TOPIC
    consumer = Consumer(
        {"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "group.id": "test-dlq-reader"}
    )
    try:
        consumer.assign([TopicPartition(topic, n, offset) for n, offset in start.items()])
        found: list[Message] = []
        deadline = time.monotonic() + seconds
        while len(found) < count and time.monotonic() < deadline:
            found += [m for m in consumer.consume(count - len(found), timeout=1) if m.error() is None]
        assert len(found) == count, f"{len(found)} dead letters, expected {count}"
        return found
    finally:
        consumer.close()


def drain(group: str, until: Callable[[], bool], seconds: float = 30) -> None:
    """Run the real consumer loop in this process until `until()` holds."""
    consumer = OrderConsumer(group_id=group, batch_size=500, max_wait=0.2, report=lambda line: None)
    try:
        deadline = time.monotonic() + seconds
        while not until():
            if time.monotonic() > deadline:
                pytest.fail(f"the consumer did not get there in {seconds}s")
            consumer.step()
    finally:
        consumer.close()


def start_consumer(group: str, name: str = "consumer", batch_size: int = 200):
    """`manage.py consume_orders` as its own process, against the test database."""
    return start_process(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "consume_orders",
            "--group-id",
            group,
            "--batch-size",
            str(batch_size),
            "--max-wait",
            "0.2",
        ],
        name,
    )
