"""Hand-off of accepted orders to Kafka: one producer per process.

A reservation committed in Redis must become exactly one order. So:
- the producer asks acks=all: an acknowledged order is on every in-sync replica;
- a message written twice is one order: the consumer inserts by order id (ON
  CONFLICT DO NOTHING), as it must anyway for the re-publisher's re-sends. So the
  producer is not the idempotent kind: its retries may write a message twice,
  which changes nothing, and it is not held to five requests in flight, each
  partition's in order, which queued a busy partition's acknowledgements behind
  each other (docs/BENCHMARKS.md, session 9);
- the web request waits, bounded, for the broker's acknowledgement; when it does
  not come in time the order is *not* given back: librdkafka may still deliver
  it, and the reservation stays in the sale's ledger for the re-publisher (the
  consumer de-duplicates by order id);
- while the broker is known to be down, new buys are refused before anything
  is reserved (``available`` is False), so an outage does not pile up
  reservations.

Delivery reports are served by one background thread per process, each
request waiting on its own lock (OrderPublisher); or, in the asyncio front
(orders/buy/front.py), by the event loop that publishes, each request awaiting
its own future (LoopOrderPublisher): no thread is woken per acknowledgement.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from django.conf import settings

from infra.clients import KAFKA_DOWN_CODES, kafka_producer_config, per_process

logger = logging.getLogger(__name__)

# Errors that mean "no broker answers" (a delivery that timed out too): refuse new buys
# until one does.
_DOWN_CODES = KAFKA_DOWN_CODES | {KafkaError._MSG_TIMED_OUT}
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


class _Publisher:
    """The producer, and what it knows of the broker being down (shared by both servers
    of its delivery reports)."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self._down_since: float | None = None
        config = {
            **kafka_producer_config(),
            "enable.idempotence": False,  # see above: the consumer drops a message written twice
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
        self.partitions = 0  # the topic's, when it was first seen (0: not known)
        try:
            metadata = self._producer.list_topics(topic, timeout=5)
            known = metadata.topics.get(topic)
            self.partitions = len(known.partitions) if known is not None and known.error is None else 0
        except KafkaException as error:
            self._mark_down(error.args[0].str())

    @property
    def available(self) -> bool:
        return self._down_since is None

    def flush(self, timeout: float) -> int:
        """Wait up to `timeout` s for every message still unacknowledged (on the way out);
        the number still not acknowledged then."""
        return self._producer.flush(timeout)

    def _delivered(self, error: KafkaError | None) -> bool:
        """An acknowledgement's meaning: True (the broker has it), False (no broker
        answers: not acknowledged, the reservation stays pending), or raised."""
        if error is not None:
            self._note_error(error)
            if error.code() in _DOWN_CODES:
                return False
            raise KafkaException(error)
        self._down_since = None
        return True

    def _on_error(self, error: KafkaError) -> None:
        self._note_error(error)

    def _note_error(self, error: KafkaError) -> None:
        if error.code() in _DOWN_CODES:
            self._mark_down(error.str())

    def _mark_down(self, reason: str) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            logger.warning("kafka unavailable (%s): refusing new buys until it answers", reason)

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


class OrderPublisher(_Publisher):
    """Delivery reports served by a thread of its own; a request waits on a lock."""

    def __init__(self, topic: str) -> None:
        super().__init__(topic)
        self._thread = threading.Thread(target=self._serve, name="order-publisher", daemon=True)
        self._thread.start()

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
        return self._delivered(delivery.error)

    def _serve(self) -> None:
        while True:
            self._producer.poll(0.05)
            if self._down_since is not None:
                self._probe()


_NOT_IN_TIME: Any = object()  # a LoopOrderPublisher's wait that ran out


class LoopOrderPublisher(_Publisher):
    """Delivery reports served by the event loop that publishes (the asyncio front).

    librdkafka hands a report over only inside poll(), on the thread that polls:
    here the loop's own, a millisecond after a produce and then every millisecond
    while reports are awaited (every report that arrived meanwhile in one call),
    and every POLL_IDLE_SECONDS otherwise for the broker's errors. So no thread is
    woken per acknowledgement, and a report costs a future's result. While the
    broker is down, the recovery probe (blocking, up to RECOVERY_PROBE_SECONDS)
    runs on a thread of the loop's executor, never on the loop."""

    POLL_SECONDS = 0.001
    POLL_IDLE_SECONDS = 0.05

    def __init__(self, topic: str, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(topic)
        self._loop = loop
        self._awaited = 0  # reports awaited
        self._poll_due: asyncio.TimerHandle | None = None
        self._probing = False
        loop.call_soon(self._poll_idle)

    async def publish(self, *, key: bytes, value: bytes, timeout: float) -> bool:
        """OrderPublisher.publish, awaited: True acknowledged, False not in time."""
        delivered: asyncio.Future[Any] = self._loop.create_future()

        def report(error: KafkaError | None, message: Any) -> None:
            if not delivered.done():
                delivered.set_result(error)

        try:
            self._producer.produce(
                self.topic, key=key, value=value, on_delivery=report, partition=self._partition_now()
            )
        except BufferError:
            return False  # local queue full: same as not acknowledged, reservation stays pending
        self._awaited += 1
        if self._poll_due is None:
            self._poll_due = self._loop.call_later(self.POLL_SECONDS, self._poll)
        expiry = self._loop.call_later(timeout, _not_in_time, delivered)
        try:
            error = await delivered
        finally:
            self._awaited -= 1
            expiry.cancel()
        if error is _NOT_IN_TIME:
            return False
        return self._delivered(error)

    def _partition_now(self) -> int:
        """Every order of one millisecond to one partition, the next millisecond's to the
        next: librdkafka sends one batch per partition per request, so this is one
        batch for what a keyed order would spread over every partition (the broker's
        CPU per order 80 -> 56 µs, docs/BENCHMARKS.md). No order's partition matters:
        each message is a whole order, and the consumer reads every partition. -1
        (librdkafka's partitioner, by key) while the topic's partitions are unknown."""
        if not self.partitions:
            return -1
        return int(self._loop.time() * 1000) % self.partitions

    def _poll(self) -> None:
        self._poll_due = None
        self._producer.poll(0)
        if self._awaited:
            self._poll_due = self._loop.call_later(self.POLL_SECONDS, self._poll)

    def _poll_idle(self) -> None:
        self._producer.poll(0)
        if self._down_since is not None and not self._probing:
            self._probing = True
            self._loop.run_in_executor(None, self._probe).add_done_callback(self._probed)
        self._loop.call_later(self.POLL_IDLE_SECONDS, self._poll_idle)

    def _probed(self, _done: asyncio.Future[None]) -> None:
        self._probing = False


def _not_in_time(delivered: asyncio.Future[Any]) -> None:
    if not delivered.done():
        delivered.set_result(_NOT_IN_TIME)


def order_publisher() -> OrderPublisher:
    """The process's publisher, built after fork on first use."""
    return per_process("order_publisher", lambda: OrderPublisher(settings.KAFKA_ORDERS_TOPIC))
