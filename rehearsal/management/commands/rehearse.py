"""manage.py rehearse: play a sale against a Flux-Gate address and judge it (README,
"Rehearse a sale"). Thin: flags in, rehearsal.run.rehearse(), verdicts out; exit 1
when a verdict fails, 2 when the rehearsal could not be played."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from rehearsal.plan import PROFILES, STOREFRONT_ENV, TOKEN_ENV, Thresholds, chaos_parse
from rehearsal.run import Options, RehearsalError, rehearse


class Command(BaseCommand):
    help = "Rehearse a sale: a crowd of shoppers (Locust) against the address, chaos if asked, verdicts and a report."

    def add_arguments(self, parser: Any) -> None:
        port = os.environ.get("FLUX_PORT", "8000")
        parser.add_argument(
            "--address", default=f"http://127.0.0.1:{port}", help="the one address people use"
        )
        parser.add_argument(
            "--token",
            default=os.environ.get(TOKEN_ENV, ""),
            help=f"a merchant's API token (or {TOKEN_ENV}); none: a new one of the demo merchant, in development",
        )
        parser.add_argument("--shoppers", type=int, default=300)
        parser.add_argument("--units", type=int, default=20, help="the rehearsal sale's stock")
        parser.add_argument("--profile", choices=sorted(PROFILES), default="spike")
        parser.add_argument("--seconds", type=float, default=10.0, help="the window the crowd arrives in")
        parser.add_argument("--seed", type=int, default=1, help="the same seed plays the same crowd")
        parser.add_argument(
            "--workers", type=int, default=0, help="Locust workers (separate processes); 0: one process"
        )
        parser.add_argument(
            "--remote-workers",
            type=int,
            default=0,
            help="workers that other machines start (locust -f rehearsal/locustfile.py --worker --master-host <this>)",
        )
        parser.add_argument(
            "--master-port", type=int, default=5557, help="where remote workers reach the master"
        )
        parser.add_argument(
            "--chaos", default=None, help="consumer|kafka|redis|postgres[:at=10s,for=10s|end]"
        )
        parser.add_argument(
            "--sale", type=int, default=None, help="rehearse this live sale of yours, not a new one"
        )
        parser.add_argument(
            "--rate", type=int, default=5, help="the new sale's buys per second before the line"
        )
        parser.add_argument("--burst", type=int, default=5)
        parser.add_argument(
            "--admission-rate",
            type=int,
            default=2,
            help="the line's admissions per second (few: the line is watched)",
        )
        parser.add_argument(
            "--proof-bits", type=int, default=8, help="the new sale's proof of work per shopper"
        )
        parser.add_argument(
            "--lead", type=float, default=10.0, help="prequeue: the line opens this long before"
        )
        parser.add_argument(
            "--patience", type=float, default=60.0, help="how long a shopper waits in the line"
        )
        parser.add_argument(
            "--replay-share", type=float, default=0.1, help="accepted buys sent again, same key"
        )
        parser.add_argument(
            "--thresholds", default=None, help="a JSON file: p99_ms, tau, update_ms, settle_seconds"
        )
        parser.add_argument("--p99-ms", type=float, default=None)
        parser.add_argument("--settle-seconds", type=float, default=None)
        parser.add_argument("--out", default="rehearsal-results", help="where the report goes")
        parser.add_argument(
            "--sources",
            default=None,
            help="the IPv4 network the shoppers connect from, e.g. 127.1.0.0/16 (the default on a loopback "
            "address), or '' for this machine's own address",
        )
        parser.add_argument(
            "--storefront",
            action="store_true",
            help="shoppers of a storefront's backend (X-Shopper-Token), not of the hosted pages",
        )
        parser.add_argument(
            "--storefront-key",
            default=os.environ.get(STOREFRONT_ENV, ""),
            help=f"<key id>:<secret> of the merchant's storefront key (or {STOREFRONT_ENV}); none: a new one "
            "of the demo merchant, in development",
        )
        parser.add_argument("--web-ui", action="store_true", help="Locust's web UI on :8089 as well")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            thresholds = (
                Thresholds.from_file(options["thresholds"]) if options["thresholds"] else Thresholds()
            )
            chaos = chaos_parse(options["chaos"]) if options["chaos"] else None
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from error
        overrides = {"p99_ms": options["p99_ms"], "settle_seconds": options["settle_seconds"]}
        thresholds = Thresholds(
            **{**thresholds.to_dict(), **{k: v for k, v in overrides.items() if v is not None}}
        )
        if options["shoppers"] < 1 or options["units"] < 1:
            raise CommandError("--shoppers and --units must be at least 1")
        token = options["token"] or self._demo_token()
        storefront_key = ""
        if options["storefront"]:
            storefront_key = options["storefront_key"] or self._demo_storefront_key()
            if ":" not in storefront_key:
                raise CommandError("--storefront-key: give <key id>:<secret>, as the admin showed them")
        run = Options(
            address=options["address"].rstrip("/"),
            token=token,
            storefront_key=storefront_key,
            shoppers=options["shoppers"],
            units=options["units"],
            profile=options["profile"],
            seconds=options["seconds"],
            seed=options["seed"],
            workers=options["workers"],
            remote_workers=options["remote_workers"],
            master_port=options["master_port"],
            chaos=chaos,
            thresholds=thresholds,
            out=Path(options["out"]),
            sale_id=options["sale"],
            rate=options["rate"],
            burst=options["burst"],
            admission_rate=options["admission_rate"],
            proof_bits=options["proof_bits"],
            lead=options["lead"],
            patience=options["patience"],
            replay_share=options["replay_share"],
            web_ui=options["web_ui"],
            sources=options["sources"],
        )
        try:
            outcome = rehearse(run, lambda line: self.stdout.write(line))
        except RehearsalError as error:
            raise CommandError(f"the rehearsal could not be played: {error}", returncode=2) from error
        width = max(len(verdict.name) for verdict in outcome.verdicts)
        self.stdout.write("")
        for verdict in outcome.verdicts:
            mark = "n/a " if not verdict.measured else "PASS" if verdict.passed else "FAIL"
            self.stdout.write(
                f"{mark}  {verdict.name:{width}}  {verdict.figure}  (passes: {verdict.threshold})"
            )
        self.stdout.write(f"\nreport: {outcome.html}\nfigures: {outcome.json}")
        if not outcome.passed:
            raise CommandError("a verdict failed", returncode=1)

    def _demo_merchant(self, what: str) -> Any:
        """Development only: the demo merchant `make run` created."""
        if settings.PRODUCTION:
            raise CommandError(f"give the merchant's {what}")
        merchant = get_user_model().objects.filter(username=settings.FLUX_DEMO_MERCHANT).first()
        if merchant is None:
            raise CommandError(f"no demo merchant here (make run creates one): give the merchant's {what}")
        return merchant

    def _demo_token(self) -> str:
        """A new API token of the demo merchant."""
        from sales.models import MerchantToken

        merchant = self._demo_merchant(f"API token: --token or {TOKEN_ENV}")
        return MerchantToken.issue(merchant=merchant, name="rehearsal")[1]

    def _demo_storefront_key(self) -> str:
        """A new storefront key of the demo merchant, as <key id>:<secret>."""
        from sales.storefront import storefront_key_create

        merchant = self._demo_merchant(f"storefront key: --storefront-key or {STOREFRONT_ENV}")
        key, secret = storefront_key_create(merchant=merchant, name="rehearsal")
        return f"{key.key_id}:{secret}"
