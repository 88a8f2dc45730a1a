"""The Kafka topics the order pipeline needs, created by the project itself.

The broker runs with auto.create.topics.enable=false: a typo in a topic name
must fail, not quietly create a one-partition topic.
"""

from __future__ import annotations

from confluent_kafka import OFFSET_BEGINNING, KafkaException, TopicPartition
from confluent_kafka.admin import NewTopic
from django.conf import settings

from infra.clients import kafka_admin, kafka_consumer
from infra.kafka import end_offsets
from orders.message import PoisonMessage, message_fields

ADMIN_TIMEOUT_SECONDS = 15.0


def topics_wanted() -> dict[str, int]:
    """Topic name -> partition count."""
    return {
        settings.KAFKA_ORDERS_TOPIC: settings.KAFKA_ORDERS_PARTITIONS,
        # Dead letters are rare and read by people: one partition keeps them in order.
        settings.KAFKA_ORDERS_DLQ_TOPIC: 1,
    }


def topics_ensure() -> dict[str, str]:
    """Create the missing topics, with KAFKA_REPLICATION_FACTOR copies of which
    KAFKA_MIN_INSYNC_REPLICAS must acknowledge a write (the producer asks acks=all);
    return what happened to each ("created"/"exists"). An existing topic is left
    as it is."""
    admin = kafka_admin()
    existing = admin.list_topics(timeout=ADMIN_TIMEOUT_SECONDS).topics
    outcome: dict[str, str] = {}
    missing = []
    for name, partitions in topics_wanted().items():
        if name in existing:
            outcome[name] = "exists"
        else:
            missing.append(
                NewTopic(
                    name,
                    num_partitions=partitions,
                    replication_factor=settings.KAFKA_REPLICATION_FACTOR,
                    config={"min.insync.replicas": str(settings.KAFKA_MIN_INSYNC_REPLICAS)},
                )
            )
    if missing:
        for name, future in admin.create_topics(missing, request_timeout=ADMIN_TIMEOUT_SECONDS).items():
            try:
                future.result()
                outcome[name] = "created"
            except KafkaException as error:
                if error.args[0].code() != error.args[0].TOPIC_ALREADY_EXISTS:
                    raise
                outcome[name] = "exists"  # another process created it meanwhile
    return outcome


def sale_order_messages(sale_id: int, start: dict[int, int] | None = None) -> list[dict]:
    """The sale's order messages on the orders topic, from `start` (partition ->
    offset; the beginning if None) up to the end offsets as they are now. Reads
    without a consumer group's offsets (for checks: tests, make bench, people).
    Raises RuntimeError if the topic stops short of those end offsets."""
    topic = settings.KAFKA_ORDERS_TOPIC
    ends = end_offsets(topic)
    positions = {n: (start or {}).get(n, 0) for n in ends}
    consumer = kafka_consumer("flux-reader")
    found: list[dict] = []
    try:
        consumer.assign(
            [
                TopicPartition(topic, n, positions[n] if start else OFFSET_BEGINNING)
                for n in ends
                if ends[n] > positions[n]
            ]
        )
        while any(positions[n] < ends[n] for n in ends):
            batch = consumer.consume(5000, timeout=5)
            if not batch:
                raise RuntimeError(f"the orders topic stopped short of its end offsets: {positions} < {ends}")
            for message in batch:
                if message.error():
                    continue
                positions[message.partition()] = message.offset() + 1
                try:
                    order = message_fields(message.value())
                except PoisonMessage:
                    continue
                if order.get("sale_id") == sale_id:
                    found.append(order)
        return found
    finally:
        consumer.close()
