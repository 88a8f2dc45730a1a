"""compose.yaml (Docker's path) runs the servers bin/stack runs, with the same
settings that matter: the same Redis and PostgreSQL major versions and Kafka
release, Redis's append-only file, PostgreSQL's connection limit, no automatic
Kafka topics. (Docker is not on this machine: the file is compared, not run.)"""

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
