"""The order pipeline's consumer: Kafka's `orders` topic into PostgreSQL, exactly once.

Exactly once is built from at-least-once delivery and an idempotent write:

    the batch cycle (OrderConsumer.step)
      1. consume up to `batch_size` messages, waiting at most `max_wait` seconds;
      2. decode them; undecodable ones, missing fields, unknown sales -> dead letters;
      3. one PostgreSQL transaction (order_persist_batch, orders/services.py): bulk INSERT ... ON CONFLICT
         (order_id) DO NOTHING, then each sale's persisted-units count is raised with
         an optimistic lock on its version, never past its quantity (the excess, which a
         correct system never produces, becomes anomalies and dead letters);
      4. dead letters to `orders.dlq` (flushed), persisted orders leave the Redis ledger;
      5. commit the offsets, only now.
    A crash anywhere before 5 redelivers the batch, and step 3 makes that a no-op.
    PostgreSQL down: step 3 is retried with back-off on the same batch (partitions
    paused, membership kept) and nothing is committed. Kafka down: consume keeps
    retrying and the outage is logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from django.conf import settings
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection

from infra.clients import KAFKA_DOWN_CODES, kafka_consumer, kafka_producer_config
from orders.message import IncomingOrder, PoisonMessage, order_decode
from orders.services import BatchResult, ledger_release, order_persist_batch

logger = logging.getLogger(__name__)


class DeadLetters:
    """The `orders.dlq` topic: the original bytes, the reason in headers."""

    def __init__(self) -> None:
        self.producer = Producer(kafka_producer_config())

    def send(
        self, message_value: bytes, key: bytes | None, reason: str, source: tuple[str, int, int]
    ) -> None:
        topic, partition, offset = source
        headers = [
            ("error", reason.encode()),
            ("source.topic", topic.encode()),
            ("source.partition", str(partition).encode()),
            ("source.offset", str(offset).encode()),
            ("consumer.group", settings.KAFKA_ORDERS_GROUP.encode()),
        ]
        self.producer.produce(settings.KAFKA_ORDERS_DLQ_TOPIC, value=message_value, key=key, headers=headers)

    def flush(self) -> None:
        """Wait until the broker has every dead letter; raises if it does not."""
        while self.producer.flush(10) > 0:
            logger.warning("dead letters not acknowledged yet; retrying")


@dataclass
class BatchStats:
    received: int = 0
    persisted: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    seconds: float = 0.0
    lag: int = 0


class OrderConsumer:
    """The long-running loop of `manage.py consume_orders`; `step()` does one batch."""

    def __init__(
        self,
        *,
        group_id: str,
        instance_id: str | None = None,
        batch_size: int = 2000,
        max_wait: float = 0.5,
        report: Callable[[str], None] = print,
    ) -> None:
        self.group_id = group_id
        self.batch_size = batch_size
        self.max_wait = max_wait
        self.report = report
        self.stopping = False
        self._kafka_down_since: float | None = None
        self._revoked = False
        self.consumer = kafka_consumer(
            group_id,
            # Static membership: a consumer restarted under the same instance id (bin/run's
            # supervisord does that after a crash) takes its partitions back at once, instead
            # of waiting for the group to give up on the dead member (session.timeout.ms, 45 s).
            **({"group.instance.id": instance_id} if instance_id else {}),
            **{
                "auto.offset.reset": "earliest",
                "statistics.interval.ms": 1000,  # keeps the cached watermarks fresh for the lag
                "stats_cb": lambda _: None,
                "error_cb": self._on_error,
                # Ask the broker for 64 KB at a time (or whatever came within fetch.wait.max.ms,
                # 500 ms): fetched message by message while a sale was on, the broker spent as
                # much CPU serving this consumer as taking the orders (docs/BENCHMARKS.md).
                "fetch.min.bytes": 65_536,
            },
        )
        self.dead_letters = DeadLetters()
        self.consumer.subscribe(
            [settings.KAFKA_ORDERS_TOPIC], on_assign=self._on_assign, on_revoke=self._on_revoke
        )

    # --- the cycle ---------------------------------------------------------------

    def run(self) -> None:
        try:
            while not self.stopping:
                self.step()
        finally:
            self.close()

    def step(self) -> BatchStats | None:
        """Consume, persist and commit one batch; None when nothing came."""
        messages = self.consumer.consume(self.batch_size, timeout=self.max_wait)
        messages = [m for m in messages if not self._is_error(m)]
        if not messages:
            return None
        started = time.monotonic()
        self._revoked = False
        stats = BatchStats(received=len(messages))
        orders: list[IncomingOrder] = []
        for message in messages:
            try:
                orders.append(
                    order_decode(message.value(), partition=message.partition(), offset=message.offset())
                )
            except PoisonMessage as poison:
                self._dead_letter(message, str(poison))
                stats.dead_letters += 1
        result = self._persist_with_retry(orders)
        if result is None:
            return None  # partitions were taken away meanwhile: the new owner redoes the batch
        by_id = {str(o.order_id): o for o in orders}
        for order in result.unknown_sale:
            self._dead_letter_order(by_id[str(order.order_id)], f"unknown sale {order.sale_id}")
        for order in result.excess:
            self._dead_letter_order(order, f"oversold: would take sale {order.sale_id} past its quantity")
        stats.dead_letters += len(result.unknown_sale) + len(result.excess)
        self.dead_letters.flush()
        ledger_release(orders=result.inserted + result.duplicates)
        self._commit()
        stats.persisted, stats.duplicates = len(result.inserted), len(result.duplicates)
        stats.seconds = time.monotonic() - started
        stats.lag = self.lag()
        self.report(
            f"batch: {stats.received} messages, {stats.persisted} persisted, {stats.duplicates} duplicates, "
            f"{stats.dead_letters} dead letters, lag {stats.lag}, {stats.seconds * 1000:.0f} ms"
        )
        return stats

    def _persist_with_retry(self, orders: list[IncomingOrder]) -> BatchResult | None:
        """The database write, retried with back-off while PostgreSQL is down.
        The partitions are paused meanwhile and the consumer keeps polling, so it
        stays in its group without taking more messages."""
        delay = 0.2
        paused = False
        while True:
            try:
                result = order_persist_batch(orders=orders)
            except (OperationalError, InterfaceError) as error:
                connection.close()  # a fresh connection on the next attempt
                if not paused:
                    self.consumer.pause(self.consumer.assignment())
                    paused = True
                self.report(f"postgresql unavailable ({str(error).strip()[:120]}); retrying in {delay:.1f}s")
                deadline = time.monotonic() + delay
                while time.monotonic() < deadline:
                    self.consumer.poll(0.1)
                    if self._revoked:
                        return None
                delay = min(delay * 2, 5.0)
                continue
            except (IntegrityError, DatabaseError):
                connection.close()
                raise
            if paused:
                self.consumer.resume(self.consumer.assignment())
            return result

    def _commit(self) -> None:
        while True:
            try:
                self.consumer.commit(asynchronous=False)
                return
            except KafkaException as error:
                code = error.args[0].code()
                if code in (KafkaError._NO_OFFSET,):
                    return
                # The rows are committed: a redelivery would be a no-op, but keep trying
                # so the group does not redo the batch needlessly.
                self.report(f"offset commit failed ({error.args[0].str()}); retrying")
                time.sleep(0.5)
                if self._revoked or self.stopping:
                    return

    # --- dead letters ------------------------------------------------------------

    def _dead_letter(self, message: Message, reason: str) -> None:
        self.dead_letters.send(
            message.value() or b"",
            message.key(),
            reason,
            (message.topic(), message.partition(), message.offset()),
        )
        logger.warning(
            "dead letter %s[%s]@%s: %s", message.topic(), message.partition(), message.offset(), reason
        )

    def _dead_letter_order(self, order: IncomingOrder, reason: str) -> None:
        self.dead_letters.send(
            order.raw,
            str(order.order_id).encode(),
            reason,
            (settings.KAFKA_ORDERS_TOPIC, order.partition, order.offset),
        )
        logger.warning("dead letter order %s: %s", order.order_id, reason)

    # --- Kafka housekeeping --------------------------------------------------------

    def _is_error(self, message: Message) -> bool:
        error = message.error()
        if error is None:
            if self._kafka_down_since is not None:
                self.report(f"kafka answers again after {time.monotonic() - self._kafka_down_since:.1f}s")
                self._kafka_down_since = None
            return False
        if error.code() != KafkaError._PARTITION_EOF:
            self._on_error(error)
        return True

    def _on_error(self, error: KafkaError) -> None:
        if error.code() in KAFKA_DOWN_CODES and self._kafka_down_since is None:
            self._kafka_down_since = time.monotonic()
            self.report(f"kafka unavailable ({error.str()}); retrying")

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.report(f"assigned partitions {sorted(p.partition for p in partitions)}")

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Everything persisted is committed after each batch; a batch in progress
        (waiting for PostgreSQL) is dropped, uncommitted, for the next owner."""
        self._revoked = True
        self.report(f"revoked partitions {sorted(p.partition for p in partitions)}")

    def lag(self) -> int:
        total = 0
        for partition in self.consumer.assignment():
            try:
                _, high = self.consumer.get_watermark_offsets(partition, cached=True)
                position = self.consumer.position([partition])[0].offset
            except KafkaException:
                continue
            if high >= 0 and position >= 0:
                total += max(0, high - position)
        return total

    def close(self) -> None:
        self.dead_letters.flush()
        self.consumer.close()  # leaves the group: its partitions move at once
