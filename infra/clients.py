"""Connections to Redis and Kafka, one set per process.

The WSGI server forks its workers after importing the application, and a
socket or a librdkafka handle must never be shared across a fork. So every
client is built lazily, on first use, and remembered with the pid that built
it: a forked child sees a different pid and builds its own.

With REDIS_SENTINELS set (the HA topology), every Redis connection is made to
the primary the Sentinels name at the time it connects: a connection that broke
in a failover, or finds its node demoted (READONLY), is made again to the new
primary, so the application follows a failover by itself.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TypeVar

import redis
import redis.sentinel
from confluent_kafka import Consumer, KafkaError
from confluent_kafka.admin import AdminClient
from django.conf import settings

T = TypeVar("T")

_lock = threading.RLock()  # re-entrant: a script builds the client it runs on
_clients: dict[str, tuple[int, object]] = {}


def per_process(name: str, build: Callable[[], T]) -> T:
    pid = os.getpid()
    entry = _clients.get(name)
    if entry is None or entry[0] != pid:
        with _lock:
            entry = _clients.get(name)
            if entry is None or entry[0] != pid:
                entry = (pid, build())
                _clients[name] = entry
    return entry[1]  # type: ignore[return-value]


def redis_client() -> redis.Redis:
    """The process's Redis client (a thread-safe connection pool): REDIS_URL's
    server, or with REDIS_SENTINELS the primary the Sentinels name."""
    return per_process("redis", _redis_client_build)


class SentinelFollowingConnection(redis.sentinel.SentinelManagedConnection):
    """A Sentinel-managed connection that asks the Sentinels for the primary every
    time it connects. redis-py's own asks only in connect(); a connection that
    broke and is re-opened by a command's retry (or by kombu, Celery's broker
    client) goes through connect_check_health() and would knock at the address of
    the primary that died, again and again, instead of the one promoted since."""

    def connect_check_health(self, check_health: bool = True, retry_socket_connect: bool = True) -> None:
        if not self._sock and self.connection_pool.is_master:
            self.host, self.port = self.connection_pool.get_master_address()
        super().connect_check_health(check_health=check_health, retry_socket_connect=retry_socket_connect)


def _redis_client_build() -> redis.Redis:
    options = {
        "socket_timeout": settings.REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": settings.REDIS_SOCKET_TIMEOUT,
        "health_check_interval": 30,
    }
    if not settings.REDIS_SENTINELS:
        return redis.Redis.from_url(settings.REDIS_URL, **options)
    sentinels = redis.sentinel.Sentinel(
        settings.REDIS_SENTINEL_ADDRESSES,
        sentinel_kwargs={"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
    )
    return sentinels.master_for(
        settings.REDIS_SENTINEL_MASTER,
        db=settings.REDIS_DB,
        connection_class=SentinelFollowingConnection,
        **options,
    )


class ReplicasUnconfirmed(redis.RedisError):
    """Redis decided, but fewer replicas than REDIS_WAIT_REPLICAS acknowledged the
    decision within REDIS_WAIT_TIMEOUT_MS: a failover now could lose it."""


# librdkafka's errors that mean "no broker answers" (the producer's refusal of new buys,
# the consumer's outage report).
KAFKA_DOWN_CODES = frozenset({KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT})


def redis_ms(time_reply: tuple[int, int]) -> int:
    """Redis's TIME reply (seconds, microseconds) in epoch milliseconds: the clock every
    script and every page of a sale reads, never a web process's own."""
    seconds, micros = time_reply
    return seconds * 1000 + micros // 1000


@cache
def lua_source(path: Path) -> str:
    """A Lua script's source, read once per process."""
    return path.read_text()


def redis_script(name: str, source: str) -> redis.commands.core.Script:
    """A Lua script bound to the process's client. Calling it sends EVALSHA
    (one round trip); redis-py loads the source once if the server lacks it."""
    return per_process(f"script:{name}", lambda: redis_client().register_script(source))


class HotScript:
    """A Lua script for the hot path, run on a connection owned by the calling thread.

    redis-py's client checks a connection out of its pool, wraps the command in
    its retry machinery and returns the connection, for every command: measured,
    that was a third of a rate-limited buy's CPU. A web thread runs one command
    at a time, so it keeps one connection of its own and talks to it directly.

    `replicas`: a script that decides something a shopper is told (buy.lua) is
    followed on the same connection, in the same round trip, by WAIT: its answer
    counts only once that many replicas hold the script's writes (else
    ReplicasUnconfirmed). 0 on a single Redis.
    """

    def __init__(self, source: str, *, replicas: int = 0) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()
        self.replicas = replicas
        self._local = threading.local()
        pool = redis_client().connection_pool
        # A plain connection, or with Sentinel one that asks for the primary whenever it
        # connects (SentinelFollowingConnection).
        self._connection_class = pool.connection_class
        self._connection_kwargs = pool.connection_kwargs

    def _connection(self) -> redis.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._connection_class(**self._connection_kwargs)
        return connection

    def _exchange(self, connection: redis.Connection, *command: object) -> object:
        if not self.replicas:
            connection.send_command(*command)
            return connection.read_response()
        wait = ("WAIT", self.replicas, settings.REDIS_WAIT_TIMEOUT_MS)
        connection.send_packed_command(connection.pack_commands([command, wait]))
        try:
            result = connection.read_response()
        except redis.ResponseError:
            connection.read_response()  # WAIT's answer: never left on the wire
            raise
        acknowledged = connection.read_response()
        if acknowledged < self.replicas:
            raise ReplicasUnconfirmed(f"{acknowledged} of {self.replicas} replica(s) acknowledged in time")
        return result

    def _run(self, keys: list[str], args: list[object]) -> object:
        connection = self._connection()
        try:
            return self._exchange(connection, "EVALSHA", self.sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:
            # A new connection, a restarted Redis, a replica just promoted: load it once.
            connection.send_command("SCRIPT", "LOAD", self.source)
            connection.read_response()
            return self._exchange(connection, "EVALSHA", self.sha, len(keys), *keys, *args)
        except (redis.ConnectionError, redis.TimeoutError):
            connection.disconnect()
            raise

    def __call__(self, *, keys: list[str], args: list[object]) -> object:
        """Run the script. A connection that broke (Redis restarted) is replaced
        once; scripts run here must make a repeat harmless (buy.lua: the
        idempotency key turns it into a replay)."""
        try:
            return self._run(keys, args)
        except (redis.ConnectionError, redis.TimeoutError):
            return self._run(keys, args)


def hot_script(name: str, source: str, *, replicated: bool = False) -> HotScript:
    """`replicated`: the script's answer waits for REDIS_WAIT_REPLICAS replicas (HotScript)."""
    replicas = settings.REDIS_WAIT_REPLICAS if replicated else 0
    return per_process(f"hot-script:{name}:{replicas}", lambda: HotScript(source, replicas=replicas))


def kafka_admin() -> AdminClient:
    return per_process(
        "kafka_admin",
        lambda: AdminClient({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "log_level": 3}),
    )


def kafka_producer_config() -> dict[str, object]:
    """Idempotent producer: acks from all in-sync replicas, no duplicates on retry."""
    return {
        "bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": settings.KAFKA_PRODUCER_LINGER_MS,
        # Connection failures are reported once by our own code (orders/publisher.py),
        # not on every reconnect attempt by librdkafka.
        "log_level": 2,
    }


def kafka_consumer_config(group_id: str, **overrides: object) -> dict[str, object]:
    """A consumer of the project's Kafka: offsets committed by the caller, never
    by librdkafka behind its back; `overrides` add or replace settings."""
    return {
        "bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
        "group.id": group_id,
        "enable.auto.commit": False,
        "log_level": 2,
        **overrides,
    }


def kafka_consumer(group_id: str, **overrides: object) -> Consumer:
    """A new consumer (not per process: each reader owns and closes its own)."""
    return Consumer(kafka_consumer_config(group_id, **overrides))


def reset_clients() -> None:
    """Forget every client (tests that repoint settings at another server)."""
    with _lock:
        _clients.clear()
