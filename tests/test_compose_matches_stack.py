"""compose.yaml (Docker's path) runs the servers bin/stack runs, with the same
settings that matter: the same Redis and PostgreSQL major versions and Kafka
release, Redis's append-only file, PostgreSQL's connection limit, no automatic
Kafka topics; and its profile "ha" the topology of bin/stack up --ha (ports,
quorum, replication, Sentinels). (Docker is not on this machine: the file is
compared, not run.)"""

from __future__ import annotations

import re
import shutil
import subprocess

import yaml

from tests.support.servers import ROOT

COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
STACK = (ROOT / "bin" / "stack").read_text()


def image_version(service: str) -> str:
    return COMPOSE[service]["image"].rsplit(":", 1)[1]


def test_redis_same_major_and_append_only_file() -> None:
    native = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
    major = re.search(r"v=(\d+)\.", native).group(1)
    assert image_version("redis").split(".")[0] == major
    flags = re.search(r"redis-server --port .*?--daemonize", STACK, re.S).group(0)
    command = " ".join(COMPOSE["redis"]["command"])
    for setting in ("--appendonly yes", "--appendfsync everysec"):
        assert setting in flags and setting in command
    assert '--save ""' in flags and "--save " in command


def test_postgres_same_major_and_limits() -> None:
    native_major = sorted(p.name for p in (shutil.os.scandir("/usr/lib/postgresql")))[-1]
    assert image_version("postgres").split(".")[0] == native_major
    command = " ".join(COMPOSE["postgres"]["command"])
    for setting in re.findall(r"-c ((?:max_connections|shared_buffers)=\S+?)[\" ]", STACK):
        assert setting in command


def test_kafka_same_release_and_no_automatic_topics() -> None:
    pom = (ROOT / "stack" / "pom.xml").read_text()
    release = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom).group(1)
    assert image_version("kafka") == release
    environment = COMPOSE["kafka"]["environment"]
    assert "auto.create.topics.enable=false" in STACK
    assert environment["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert environment["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, one node, as bin/stack
    assert environment["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == 1


# --- the HA topology: compose's profile "ha" against bin/stack up --ha ---------------

HA = {name: service for name, service in COMPOSE.items() if "ha" in service.get("profiles", [])}


def stack_default(variable: str) -> str:
    """A default bin/stack gives one of its settings (`NAME=${VARIABLE:-default}`)."""
    return re.search(rf"\${{{variable}:-([^}}]+)}}", STACK).group(1)


def test_ha_profile_has_the_topology_of_bin_stack() -> None:
    kafka = ["kafka-1", "kafka-2", "kafka-3"]
    redis = ["redis-primary", "redis-replica-1", "redis-replica-2", "sentinel-1", "sentinel-2", "sentinel-3"]
    assert sorted(HA) == sorted([*kafka, *redis, "postgres-ha"])
    for name, service in HA.items():
        if name != "postgres-ha":
            assert service["network_mode"] == "host", name  # the addresses bin/stack's servers have
    assert COMPOSE["postgres-ha"]["ports"] == [f"127.0.0.1:{stack_default('FLUX_HA_PG_PORT')}:5432"]


def test_ha_kafka_same_quorum_replication_and_fencing() -> None:
    port, controller = (
        int(stack_default("FLUX_HA_KAFKA_PORT")),
        int(stack_default("FLUX_HA_KAFKA_CONTROLLER_PORT")),
    )
    voters = ",".join(f"{n + 1}@127.0.0.1:{controller + n}" for n in range(3))
    assert re.search(r"KAFKA_RF=3\n\s*KAFKA_MIN_ISR=2", STACK)
    for n in range(3):
        environment = HA[f"kafka-{n + 1}"]["environment"]
        assert HA[f"kafka-{n + 1}"]["image"] == COMPOSE["kafka"]["image"]
        assert environment["KAFKA_NODE_ID"] == n + 1
        assert environment["KAFKA_CONTROLLER_QUORUM_VOTERS"] == voters
        assert environment["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://127.0.0.1:{port + n}"
        assert (
            environment["KAFKA_LISTENERS"]
            == f"PLAINTEXT://127.0.0.1:{port + n},CONTROLLER://127.0.0.1:{controller + n}"
        )
        assert environment["KAFKA_DEFAULT_REPLICATION_FACTOR"] == 3
        assert environment["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == 3
        assert environment["KAFKA_MIN_INSYNC_REPLICAS"] == 2
        assert environment["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == 2
        assert environment["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        for setting in (
            "broker.session.timeout.ms",
            "broker.heartbeat.interval.ms",
            "unclean.leader.election.enable",
        ):
            native = re.search(rf"{re.escape(setting)}=(\w+)", STACK).group(1)
            assert str(environment["KAFKA_" + setting.replace(".", "_").upper()]) == native, setting


def test_ha_redis_same_replication_settings_and_sentinels() -> None:
    port, sentinel = int(stack_default("FLUX_HA_REDIS_PORT")), int(stack_default("FLUX_HA_SENTINEL_PORT"))
    master = stack_default("FLUX_HA_SENTINEL_MASTER")
    flags = re.search(r"redis-server --port \"\$port\".*?--daemonize", STACK, re.S).group(0)
    for setting in (
        "--appendonly yes",
        "--appendfsync everysec",
        "--min-replicas-to-write 1",
        "--min-replicas-max-lag 10",
        "--maxmemory-policy noeviction",
    ):
        assert setting in flags, setting
        for name in ("redis-primary", "redis-replica-1", "redis-replica-2"):
            assert setting in " ".join(HA[name]["command"]), (name, setting)
    assert f"--port {port} " in " ".join(HA["redis-primary"]["command"])
    for n, name in enumerate(("redis-replica-1", "redis-replica-2"), start=1):
        command = " ".join(HA[name]["command"])
        assert f"--port {port + n} " in command and command.endswith(f"--replicaof 127.0.0.1 {port}")
    down_ms = stack_default("FLUX_HA_SENTINEL_DOWN_MS")
    assert "sentinel monitor $HA_MASTER 127.0.0.1 $HA_REDIS_PORT 2" in STACK
    for n in range(3):
        command = HA[f"sentinel-{n + 1}"]["command"][-1]
        assert f"port {sentinel + n}\n" in command
        assert f"sentinel monitor {master} 127.0.0.1 {port} 2\n" in command
        assert f"sentinel down-after-milliseconds {master} {down_ms}\n" in command
        for setting in ("failover-timeout", "parallel-syncs"):
            native = re.search(rf"sentinel {setting} \$HA_MASTER (\S+)", STACK).group(1)
            assert f"sentinel {setting} {master} {native}\n" in command, setting
