"""Hand-off of accepted orders to Kafka: one idempotent producer per process.

A reservation committed in Redis must become exactly one order. So:
- the producer is idempotent (acks=all, enable.idempotence): its own retries
  never write a message twice;
- the web request waits, bounded, for the broker's acknowledgement; when it does
  not come in time the order is *not* given back: librdkafka may still deliver
  it, and the reservation stays in the sale's ledger for the re-publisher (the
  consumer de-duplicates by order id);
- while the broker is known to be down, new buys are refused before anything
  is reserved (``available`` is False), so an outage does not pile up
  reservations.

Delivery reports are served by one background thread per process; each
request waits on its own event.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from django.conf import settings

from infra.clients import kafka_producer_config, per_process

logger = logging.getLogger(__name__)

# Errors that mean "no broker answers": refuse new buys until one does.
_DOWN_CODES = {KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT, KafkaError._MSG_TIMED_OUT}
RECOVERY_PROBE_SECONDS = 0.5


class _Delivery:
    """One message's acknowledgement, waited on by the request that produced it.

    A lock taken at birth and released by the delivery report: the waiter's
    acquire returns when it is released. Cheaper than threading.Event (a
    Condition, a second lock and a list of waiters) on a path every order takes."""

    __slots__ = ("_done", "error")

    def __init__(self) -> None:
        self._done = threading.Lock()
        self._done.acquire()
        self.error: KafkaError | None = None

    def __call__(self, error: KafkaError | None, message: Any) -> None:
        self.error = error
        self._done.release()

    def wait(self, timeout: float) -> bool:
        return self._done.acquire(timeout=timeout)


class OrderPublisher:
    def __init__(self, topic: str) -> None:
        self.topic = topic
        self._down_since: float | None = None
        config = {
            **kafka_producer_config(),
            "error_cb": self._on_error,
            # librdkafka keeps retrying an unacknowledged message this long; the
            # request stops waiting much earlier (BUY_KAFKA_ACK_TIMEOUT).
            "message.timeout.ms": 30_000,
            "socket.connection.setup.timeout.ms": 2_000,
            "reconnect.backoff.max.ms": 500,
        }
        self._producer = Producer(config)
        # Connect and learn the topic's leaders now: left to the first order, this
        # takes about half a second (longer than it should wait for its ack).
        try:
            self._producer.list_topics(topic, timeout=5)
        except KafkaException as error:
            self._mark_down(error.args[0].str())
        self._thread = threading.Thread(target=self._serve, name="order-publisher", daemon=True)
        self._thread.start()

    @property
    def available(self) -> bool:
        return self._down_since is None

    def publish(self, *, key: bytes, value: bytes, timeout: float) -> bool:
        """Produce and wait up to ``timeout`` seconds for the acknowledgement.

        True: the broker has the message. False: not acknowledged in time (it
        may still arrive). Raises KafkaException for a definite refusal.
        """
        delivery = _Delivery()
        try:
            self._producer.produce(self.topic, key=key, value=value, on_delivery=delivery)
        except BufferError:
            return False  # local queue full: same as not acknowledged, reservation stays pending
        if not delivery.wait(timeout):
            return False
        if delivery.error is not None:
            self._note_error(delivery.error)
            if delivery.error.code() in _DOWN_CODES:
                return False
            raise KafkaException(delivery.error)
        self._down_since = None
        return True

    # --- background: delivery reports and recovery -------------------------------

    def _on_error(self, error: KafkaError) -> None:
        self._note_error(error)

    def _note_error(self, error: KafkaError) -> None:
        if error.code() in _DOWN_CODES:
            self._mark_down(error.str())

    def _mark_down(self, reason: str) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            logger.warning("kafka unavailable (%s): refusing new buys until it answers", reason)

    def _serve(self) -> None:
        while True:
            self._producer.poll(0.05)
            if self._down_since is not None:
                self._probe()

    def _probe(self) -> None:
        try:
            metadata = self._producer.list_topics(self.topic, timeout=RECOVERY_PROBE_SECONDS)
        except KafkaException:
            return
        topic = metadata.topics.get(self.topic)
        leaders_known = (
            topic is not None
            and topic.error is None
            and all(p.leader >= 0 for p in topic.partitions.values())
        )
        if metadata.brokers and leaders_known:
            logger.warning("kafka answers again after %.1fs", time.monotonic() - (self._down_since or 0))
            self._down_since = None


def order_publisher() -> OrderPublisher:
    """The process's publisher, built after fork on first use."""
    return per_process("order_publisher", lambda: OrderPublisher(settings.KAFKA_ORDERS_TOPIC))
