"""manage.py check_servers: do the configured Redis, PostgreSQL and Kafka answer,
and are they what Flux-Gate needs? (infra/servers.py; bin/stack up runs it when
FLUX_STACK=external.) Exit status 1 when any is missing or too old."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from infra.servers import ServerCheck, kafka_check, postgres_check, redis_check
from orders.topics import topics_wanted


def checks_all() -> list[ServerCheck]:
    checks = []
    seen: set[str] = set()
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "CHANNELS_REDIS_URL"):
        url = getattr(settings, name)
        server = url.rsplit("/", 1)[0]  # one check per server, whatever the database number
        if server not in seen:
            seen.add(server)
            checks.append(redis_check(f"redis ({name})", url))
    db = settings.DATABASES["default"]
    conninfo = psycopg_conninfo(db)
    checks.append(postgres_check(conninfo, f"{db['HOST']}:{db['PORT']}/{db['NAME']} as {db['USER']}"))
    checks.append(kafka_check(settings.KAFKA_BOOTSTRAP_SERVERS, list(topics_wanted())))
    return checks


def psycopg_conninfo(db: dict[str, Any]) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(
        host=db["HOST"], port=str(db["PORT"]), user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"]
    )


class Command(BaseCommand):
    help = "Check that the configured Redis, PostgreSQL and Kafka answer and are recent enough."

    def handle(self, *args: Any, **options: Any) -> None:
        checks = checks_all()
        for check in checks:
            mark = "ok     " if check.ok else "MISSING"
            self.stdout.write(f"[check] {mark} {check.name:<28} {check.address}: {check.detail}")
        failing = [check.name for check in checks if not check.ok]
        if failing:
            raise CommandError(f"not usable: {', '.join(failing)} (see above)")
