"""Dependency health: does each server the product needs answer right now?"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from infra.clients import kafka_admin, redis_client

KAFKA_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _check_redis() -> None:
    if not redis_client().ping():
        raise RuntimeError("PING did not answer PONG")


def _check_postgres() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_kafka() -> None:
    metadata = kafka_admin().list_topics(timeout=KAFKA_TIMEOUT_SECONDS)
    if not metadata.brokers:
        raise RuntimeError("no broker in the cluster metadata")


CHECKS: dict[str, Callable[[], None]] = {
    "redis": _check_redis,
    "postgresql": _check_postgres,
    "kafka": _check_kafka,
}


def health_check_all() -> list[Check]:
    results = []
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # any failure means "not healthy"; name it
            if name == "postgresql":
                connection.close()  # a broken connection must not be reused
            results.append(Check(name, False, f"{type(error).__name__}: {error}".strip()))
        else:
            results.append(Check(name, True, "ok"))
    return results


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when Redis, PostgreSQL and Kafka all answer; 503 naming those that do not."""
    checks = health_check_all()
    failing = [check.name for check in checks if not check.ok]
    body = {
        "status": "ok" if not failing else "unavailable",
        "failing": failing,
        "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in checks},
    }
    return JsonResponse(body, status=200 if not failing else 503)
