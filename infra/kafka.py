"""Reading a topic's and a consumer group's positions: what is on the log, and
how much of it a group has not committed yet. Generic over topic and group;
the order pipeline's topics are named in settings."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from django.conf import settings

from infra.clients import kafka_consumer

TIMEOUT_SECONDS = 10.0
# What a broker answers about a group while it is still electing the group's coordinator
# (on a fresh cluster, it creates __consumer_offsets on the first such question).
_COORDINATOR_PENDING = {
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
}


def end_offsets(topic: str) -> dict[int, int]:
    """Partition -> the offset the next message will get, as the broker has it now."""
    consumer = kafka_consumer("flux-offsets")
    try:
        numbers = consumer.list_topics(topic, timeout=TIMEOUT_SECONDS).topics[topic].partitions
        return {
            n: consumer.get_watermark_offsets(TopicPartition(topic, n), timeout=TIMEOUT_SECONDS)[1]
            for n in numbers
        }
    finally:
        consumer.close()


def group_backlog(topic: str, group_id: str) -> int:
    """Messages on `topic` that `group_id` has not committed yet. A partition the
    group never committed counts from its low watermark."""
    consumer = kafka_consumer(group_id, log_level=3)
    try:
        numbers = consumer.list_topics(topic, timeout=TIMEOUT_SECONDS).topics[topic].partitions
        committed = _committed(consumer, [TopicPartition(topic, n) for n in numbers])
        backlog = 0
        for partition in committed:
            low, high = consumer.get_watermark_offsets(partition, timeout=TIMEOUT_SECONDS)
            start = partition.offset if partition.offset >= 0 else low
            backlog += max(0, high - start)
        return backlog
    finally:
        consumer.close()


def _committed(consumer: Consumer, partitions: list[TopicPartition]) -> list[TopicPartition]:
    """The group's committed offsets, asked again while its coordinator is being elected:
    right after a fresh broker starts, `make run`'s demo sale asked and got NOT_COORDINATOR."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while True:
        try:
            return consumer.committed(partitions, timeout=TIMEOUT_SECONDS)
        except KafkaException as error:
            if error.args[0].code() not in _COORDINATOR_PENDING or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def group_commit_to_end(topic: str, group_id: str) -> None:
    """Mark every message now on `topic` as consumed by `group_id`: a new group
    starts where the log ends, not at its history."""
    consumer = kafka_consumer(group_id)
    try:
        ends = [TopicPartition(topic, n, offset) for n, offset in end_offsets(topic).items()]
        consumer.commit(offsets=ends, asynchronous=False)
    finally:
        consumer.close()


def orders_backlog() -> int:
    """Order messages the order consumer's group has not committed yet (the topic
    and the group are named in settings): what re-arming a sale from PostgreSQL
    and reconciliation wait for."""
    return group_backlog(settings.KAFKA_ORDERS_TOPIC, settings.KAFKA_ORDERS_GROUP)
