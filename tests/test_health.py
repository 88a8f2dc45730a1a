"""GET /healthz: 200 when Redis, PostgreSQL and Kafka answer, 503 naming the one that is down.

Each failure case stops the real server with bin/stack and starts it again."""

from __future__ import annotations

import pytest
from django.test import Client

from infra.clients import reset_clients
from tests.support.servers import stack

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_all_servers_up_is_200(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert set(body["checks"]) == {"redis", "postgresql", "kafka"}


@pytest.mark.parametrize(
    "service, name", [("redis", "redis"), ("kafka", "kafka"), ("postgres", "postgresql")]
)
def test_a_stopped_server_is_503_naming_it(
    client: Client, restart_server: list[str], service: str, name: str
) -> None:
    restart_server.append(service)
    stack("down", service)
    reset_clients()

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == [name]
    assert body["checks"][name]["ok"] is False

    stack("up", service)
    reset_clients()
    assert client.get("/healthz").status_code == 200
