"""The real Kafka broker takes an idempotent produce on the orders topic and gives it back."""

from __future__ import annotations

import time
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition
from django.conf import settings

from flux_admin.clients import kafka_admin, kafka_producer_config


def test_orders_topics_exist_with_partitions() -> None:
    topics = kafka_admin().list_topics(timeout=10).topics
    assert len(topics[settings.KAFKA_ORDERS_TOPIC].partitions) == settings.KAFKA_ORDERS_PARTITIONS
    assert settings.KAFKA_ORDERS_DLQ_TOPIC in topics


def test_produce_then_consume_on_the_orders_topic() -> None:
    key = uuid.uuid4().hex.encode()
    producer = Producer(kafka_producer_config())
    delivered = []
    producer.produce(
        settings.KAFKA_ORDERS_TOPIC,
        key=key,
        value=b'{"probe": true}',
        on_delivery=lambda e, m: delivered.append((e, m)),
    )
    assert producer.flush(10) == 0
    error, message = delivered[0]
    assert error is None

    consumer = Consumer(
        {
            "bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
            "group.id": f"probe-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    # Read exactly where the broker said it wrote the message.
    consumer.assign([TopicPartition(message.topic(), message.partition(), message.offset())])
    try:
        deadline = time.monotonic() + 15
        received = None
        while received is None and time.monotonic() < deadline:
            polled = consumer.poll(1.0)
            if polled is not None and polled.error() is None and polled.key() == key:
                received = polled
        assert received is not None, "the produced message never came back"
        assert received.value() == b'{"probe": true}'
    finally:
        consumer.close()
