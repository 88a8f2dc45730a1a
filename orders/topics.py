"""The Kafka topics the order pipeline needs, created by the project itself.

The broker runs with auto.create.topics.enable=false: a typo in a topic name
must fail, not quietly create a one-partition topic.
"""

from __future__ import annotations

from confluent_kafka import KafkaException
from confluent_kafka.admin import NewTopic
from django.conf import settings

from flux_admin.clients import kafka_admin

ADMIN_TIMEOUT_SECONDS = 15.0


def topics_wanted() -> dict[str, int]:
    """Topic name -> partition count."""
    return {
        settings.KAFKA_ORDERS_TOPIC: settings.KAFKA_ORDERS_PARTITIONS,
        # Dead letters are rare and read by people: one partition keeps them in order.
        settings.KAFKA_ORDERS_DLQ_TOPIC: 1,
    }


def topics_ensure() -> dict[str, str]:
    """Create the missing topics; return what happened to each ("created"/"exists")."""
    admin = kafka_admin()
    existing = admin.list_topics(timeout=ADMIN_TIMEOUT_SECONDS).topics
    outcome: dict[str, str] = {}
    missing = []
    for name, partitions in topics_wanted().items():
        if name in existing:
            outcome[name] = "exists"
        else:
            missing.append(NewTopic(name, num_partitions=partitions, replication_factor=1))
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
