"""Poison messages go to the dead-letter topic with the original bytes and the
error in headers; the consumer moves on and commits."""

from __future__ import annotations

import pytest
from django.conf import settings

from infra.kafka import end_offsets
from orders.models import Order
from tests.factories import make_sale
from tests.support.consumer import consume_dead_letters, drain, fresh_group, produce_raw
from tests.support.orders import message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_poison_goes_to_the_dead_letter_topic_and_the_rest_goes_on(owner) -> None:
    sale = make_sale(owner, live=True)
    poison = [b"\x00garbage", b'{"order_id": "x"}', message(987_654_321_987)]
    good = [message(sale.pk), message(sale.pk)]
    group = fresh_group()
    dlq_start = end_offsets(settings.KAFKA_ORDERS_DLQ_TOPIC)
    produce_raw([poison[0], good[0], poison[1], poison[2], good[1]])

    drain(group, until=lambda: Order.objects.filter(sale=sale).count() == 2)

    dead = {d.value(): dict(d.headers()) for d in consume_dead_letters(dlq_start, 3)}
    assert set(dead) == set(poison)
    assert dead[poison[0]]["error"].startswith(b"undecodable")
    assert dead[poison[1]]["error"].startswith(b"missing fields")
    assert dead[poison[2]]["error"] == b"unknown sale 987654321987"
    assert dead[poison[0]]["source.topic"] == settings.KAFKA_ORDERS_TOPIC.encode()
    assert {"source.partition", "source.offset", "consumer.group"} <= set(dead[poison[0]])
    # Everything was committed: a new consumer of the group finds nothing to do.
    assert end_offsets(settings.KAFKA_ORDERS_TOPIC) == committed(group)


def committed(group: str) -> dict[int, int]:
    from confluent_kafka import Consumer, TopicPartition

    topic = settings.KAFKA_ORDERS_TOPIC
    consumer = Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "group.id": group})
    try:
        numbers = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return {
            p.partition: p.offset
            for p in consumer.committed([TopicPartition(topic, n) for n in numbers], timeout=10)
        }
    finally:
        consumer.close()
