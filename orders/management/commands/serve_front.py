"""manage.py serve_front: the one address's front door (orders/buy/front.py).

Buys are answered here on an asyncio loop; every other request's connection is
handed to nginx on its Unix socket. This process binds the port and keeps
--workers children serving it (FLUX_FRONT_WORKERS under bin/run).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from orders.buy import front

TRUE_WORDS = {"true", "1", "yes", "on"}
FALSE_WORDS = {"false", "0", "no", "off", ""}


class Command(BaseCommand):
    help = "Serve the buy API on an event loop at the one address; hand everything else to nginx."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("FLUX_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("FLUX_FRONT_WORKERS", "2")))
        parser.add_argument(
            "--upstream",
            type=Path,
            default=Path(os.environ.get("FLUX_STACK_DIR", ".stack")) / "run" / "proxy.sock",
            help="nginx's Unix socket (bin/proxy), where every request that is not a buy goes",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # As bin/proxy reads it: trust the X-Forwarded-Proto of a TLS terminator in front.
        trust = os.environ.get("FLUX_PROXY_TRUST_FORWARDED_PROTO", "false").lower()
        if trust not in TRUE_WORDS | FALSE_WORDS:
            raise CommandError(f"FLUX_PROXY_TRUST_FORWARDED_PROTO={trust}: use true or false")
        try:
            import uvloop
        except ImportError:  # the plain asyncio loop serves too, slower
            uvloop = None
        if options["workers"] < 1:
            raise CommandError("--workers: at least 1")
        try:
            front.serve_workers(
                host=options["host"],
                port=options["port"],
                workers=options["workers"],
                upstream=options["upstream"],
                trust_forwarded_proto=trust in TRUE_WORDS,
                run=uvloop.run if uvloop is not None else asyncio.run,
                port_wait_seconds=float(os.environ.get("FLUX_FRONT_PORT_WAIT_SECONDS", "15")),
            )
        except OSError as error:
            raise CommandError(f"cannot serve {options['host']}:{options['port']}: {error}") from None
