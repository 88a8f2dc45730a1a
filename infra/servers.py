"""Are the servers Flux-Gate is pointed at the ones it needs? Each check speaks
the server's own protocol, at the addresses in the settings (REDIS_URL,
CELERY_BROKER_URL, CHANNELS_REDIS_URL, DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS),
and says what is missing or too old in words a person can act on.

`bin/stack up` runs them (`manage.py check_servers`) when FLUX_STACK=external:
the servers are someone else's (Docker's compose.yaml, managed services), so it
starts nothing and checks instead. The oldest versions are those the code needs:
Django 5.2 supports PostgreSQL 14 and later; the scripts and the append-only
file are tested on Redis 7; the orders topic's consumer group protocol and the
idempotent producer on Kafka 3.x and 4.x in KRaft mode (the broker's version is
not in Kafka's metadata; creating and reading the topics proves enough).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
import redis
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

REDIS_OLDEST = (7, 0)
POSTGRES_OLDEST = 14
TIMEOUT_SECONDS = 5.0
# Eviction policies that may drop any key: a live sale's stock and ledger among them.
EVICTS_ANY_KEY = {"allkeys-lru", "allkeys-lfu", "allkeys-random"}


@dataclass(frozen=True)
class ServerCheck:
    name: str  # "redis (REDIS_URL)", "postgresql", "kafka"
    address: str  # where, without a password
    ok: bool
    detail: str  # the version and what was verified, or what is wrong


def _redacted_url(url: str) -> str:
    scheme, _, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return f"{scheme}://{rest}"


def redis_check(name: str, url: str) -> ServerCheck:
    """PING, the version (≥ 7.0), and an eviction policy that cannot drop live state."""
    address = _redacted_url(url)
    try:
        client = redis.Redis.from_url(
            url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
        )
        client.ping()
        version = str(client.info("server")["redis_version"])
    except redis.RedisError as error:
        return ServerCheck(name, address, False, f"does not answer: {error}")
    numbers = tuple(int(part) for part in version.split(".")[:2] if part.isdigit())
    if numbers < REDIS_OLDEST:
        oldest = ".".join(map(str, REDIS_OLDEST))
        return ServerCheck(name, address, False, f"Redis {version} is too old: {oldest} or later is needed")
    try:
        policy = client.config_get("maxmemory-policy").get("maxmemory-policy", "")
    except redis.ResponseError:  # managed services often refuse CONFIG: not ours to know
        policy = "not readable (CONFIG refused)"
    if policy in EVICTS_ANY_KEY:
        return ServerCheck(
            name,
            address,
            False,
            f"Redis {version} with maxmemory-policy {policy}: it may evict a live sale's stock; "
            "use noeviction or a volatile-* policy",
        )
    return ServerCheck(name, address, True, f"Redis {version}, maxmemory-policy {policy}")


def postgres_check(conninfo: str, address: str) -> ServerCheck:
    """Connect as the configured role; the version (≥ 14)."""
    try:
        with psycopg.connect(conninfo, connect_timeout=int(TIMEOUT_SECONDS)) as connection:
            number = connection.info.server_version
            can_create_db = connection.execute(
                "SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
    except psycopg.Error as error:
        return ServerCheck("postgresql", address, False, f"cannot connect: {str(error).strip()}")
    version = f"{number // 10000}.{number % 10000}"
    if number // 10000 < POSTGRES_OLDEST:
        return ServerCheck(
            "postgresql",
            address,
            False,
            f"PostgreSQL {version} is too old: {POSTGRES_OLDEST} or later is needed",
        )
    tests = (
        "may create databases (make test needs it)"
        if can_create_db and can_create_db[0]
        else ("may not create databases: make test needs CREATEDB for its test database")
    )
    return ServerCheck("postgresql", address, True, f"PostgreSQL {version}; the role {tests}")


def kafka_check(bootstrap: str, topics: list[str]) -> ServerCheck:
    """The cluster's metadata (brokers, topics), and the right to create the
    project's topics where they do not exist yet (a validate-only request:
    nothing is created)."""
    # log_level 0: the answer below says what failed, without librdkafka's retry lines.
    admin = AdminClient(
        {"bootstrap.servers": bootstrap, "socket.timeout.ms": int(TIMEOUT_SECONDS * 1000), "log_level": 0}
    )
    try:
        metadata = admin.list_topics(timeout=TIMEOUT_SECONDS)
    except KafkaException as error:
        return ServerCheck("kafka", bootstrap, False, f"no metadata: {error.args[0].str()}")
    if not metadata.brokers:
        return ServerCheck("kafka", bootstrap, False, "no broker in the cluster's metadata")
    missing = [topic for topic in topics if topic not in metadata.topics]
    if missing:
        probes = [NewTopic(topic, num_partitions=1, replication_factor=1) for topic in missing]
        futures = admin.create_topics(probes, validate_only=True, request_timeout=TIMEOUT_SECONDS)
        for topic, future in futures.items():
            try:
                future.result(timeout=TIMEOUT_SECONDS)
            except KafkaException as error:
                return ServerCheck(
                    "kafka", bootstrap, False, f"may not create the topic {topic}: {error.args[0].str()}"
                )
    have = "the topics exist" if not missing else f"may create {', '.join(missing)}"
    return ServerCheck("kafka", bootstrap, True, f"{len(metadata.brokers)} broker(s); {have}")
