"""A rehearsal from start to verdict, against any Flux-Gate address:

1. the sale: a new one of the merchant whose API token we hold (or one named), live,
   or scheduled with its line open for a pre-queue;
2. the crowd: Locust with rehearsal/locustfile.py, one process or a master and
   workers (separate processes on this machine; more can join from others);
3. the chaos: a piece of this machine's native stack stopped and started again
   (bin/run halt/start for the consumer, bin/stack down/up for the servers);
4. the books: GET .../books until they settle, the verdicts, the report.

Everything here talks to the address over HTTP, as the crowd does: nothing reads
this machine's database, so the address may be another machine's."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from rehearsal import report
from rehearsal.plan import RESULTS_ENV, STOREFRONT_ENV, TOKEN_ENV, Chaos, Plan, Thresholds, default_sources
from rehearsal.verdicts import Verdict, judge

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
START_IN_SECONDS = 5.0  # the crowd's processes start and spawn their shoppers meanwhile
CHAOS_COMMANDS = {  # (stop, start), run from the project's folder with this process's environment
    "consumer": (["bin/run", "halt", "consumer:*"], ["bin/run", "start", "consumer:*"]),
    "kafka": (["bin/stack", "down", "kafka"], ["bin/stack", "up", "kafka"]),
    "redis": (["bin/stack", "down", "redis"], ["bin/stack", "up", "redis"]),
    "postgres": (["bin/stack", "down", "postgres"], ["bin/stack", "up", "postgres"]),
}


class RehearsalError(Exception):
    """The rehearsal could not be played (not: it was played and failed a verdict)."""


@dataclass(frozen=True)
class Options:
    address: str
    token: str
    shoppers: int = 300
    units: int = 20
    profile: str = "spike"
    seconds: float = 10.0
    seed: int = 1
    workers: int = 0
    remote_workers: int = (
        0  # workers on other machines: locust -f rehearsal/locustfile.py --worker --master-host ...
    )
    master_port: int = 5557
    chaos: Chaos | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    out: Path = Path("rehearsal-results")
    sale_id: int | None = None  # rehearse this live sale instead of a new one
    rate: int = 5
    burst: int = 5
    admission_rate: int = 2
    proof_bits: int = 8
    lead: float = 10.0
    patience: float = 60.0
    replay_share: float = 0.1
    web_ui: bool = False
    sources: str | None = None  # None: default_sources(address)
    storefront_key: str = ""  # "<key id>:<secret>": the shoppers are a storefront's (tokens), not the pages'


@dataclass(frozen=True)
class Outcome:
    verdicts: list[Verdict]
    html: Path
    json: Path

    @property
    def passed(self) -> bool:
        return all(verdict.passed for verdict in self.verdicts)


class _Api:
    """The merchant's API at the address, with the token."""

    def __init__(self, address: str, token: str) -> None:
        self.address = address
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        try:
            reply = self.session.request(method, f"{self.address}/api/v1/sales{path}", json=body, timeout=10)
        except requests.RequestException as error:
            raise RehearsalError(f"{self.address} does not answer: {error}") from error
        if reply.status_code >= 400:
            raise RehearsalError(f"{method} /api/v1/sales{path}: {reply.status_code} {reply.text[:300]}")
        return reply.json()


def _sale(api: _Api, options: Options, say: Callable[[str], None]) -> tuple[int, float, bool]:
    """(sale id, unix time of its start, whether we made it)."""
    if options.sale_id is not None:
        sale = api.call("GET", f"/{options.sale_id}")
        if sale["status"] != "live":
            raise RehearsalError(
                f"sale {options.sale_id} is {sale['status']}: rehearse a live sale, or a new one"
            )
        return options.sale_id, time.time() + START_IN_SECONDS, False
    now = datetime.now(UTC)
    prequeue = options.profile == "prequeue"
    starts = now + timedelta(seconds=START_IN_SECONDS + (options.lead if prequeue else 0))
    sale = api.call(
        "POST",
        "",
        {
            "product_name": f"Rehearsal {now:%Y-%m-%d %H:%M:%S}",
            "sku": f"rehearsal-{int(now.timestamp() * 1000)}",
            "unit_price": "1.00",
            "quantity": options.units,
            "starts_at": starts.isoformat() if prequeue else None,
            "ends_at": (now + timedelta(hours=1)).isoformat(),
            "queue_opens_at": now.isoformat() if prequeue else None,
            "per_user_limit": 1,
            # One machine's crowd is one client address: caps per address would stop it at once.
            "units_per_address": 0,
            "admissions_per_address": 0,
            "proof_bits": options.proof_bits,
            "admission_rate": options.admission_rate,
            "rate": options.rate,
            "burst": options.burst,
        },
    )
    api.call("POST", f"/{sale['id']}/{'schedule' if prequeue else 'go-live'}")
    say(
        f"[rehearse] sale {sale['id']}: {options.units} units, {options.shoppers} shoppers, {options.profile}"
    )
    start_at = starts.timestamp() if prequeue else time.time() + START_IN_SECONDS
    return sale["id"], start_at, True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _crowd(plan: Plan, options: Options, results: Path) -> list[subprocess.Popen]:
    """Locust's processes: the first is the one to wait for (the master, or the only one)."""
    env = {
        **os.environ,
        TOKEN_ENV: options.token,
        STOREFRONT_ENV: options.storefront_key,
        RESULTS_ENV: str(results),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    base = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--loglevel", "WARNING"]
    run_time = int(plan.start_at - time.time() + plan.seconds + plan.patience + 30)
    # Every shopper is spawned before t = 0 (each then waits for its arrival time).
    spawn_rate = max(100, math.ceil(plan.shoppers / (START_IN_SECONDS - 2)))
    users = ["-u", str(plan.shoppers), "-r", str(spawn_rate), "-t", f"{run_time}s"]
    mode = ["--autostart", "--autoquit", "10"] if options.web_ui else ["--headless", "--only-summary"]
    if not options.workers:
        return [subprocess.Popen([*base, *mode, *users, "--plan", plan.to_json()], cwd=ROOT, env=env)]
    port = str(_free_port())
    master = [
        *base,
        *mode,
        *users,
        "--plan",
        plan.to_json(),
        "--master",
        "--expect-workers",
        str(options.workers),
    ]
    processes = [subprocess.Popen([*master, "--master-bind-port", port], cwd=ROOT, env=env)]
    worker = [*base, "--worker", "--master-port", port]
    processes += [subprocess.Popen(worker, cwd=ROOT, env=env) for _ in range(options.workers)]
    return processes


class _ChaosPlayer:
    """Stops the piece at its time and starts it again after its seconds (or, for
    for=end, after the books were read). Records when it really did each."""

    def __init__(self, chaos: Chaos, start_at: float, say: Callable[[str], None]) -> None:
        self.chaos, self.start_at, self.say = chaos, start_at, say
        self.stopped_at: float | None = None
        self.started_at: float | None = None
        self.thread = threading.Thread(target=self._play, daemon=True)

    def _run(self, command: list[str], what: str) -> None:
        self.say(f"[rehearse] chaos: {what} {self.chaos.piece} ({' '.join(command)})")
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            self.say(f"[rehearse] chaos: {' '.join(command)} failed: {done.stderr.strip()[-300:]}")

    def _play(self) -> None:
        time.sleep(max(0.0, self.start_at + self.chaos.at - time.time()))
        self.stopped_at = time.time()
        self._run(CHAOS_COMMANDS[self.chaos.piece][0], "stopping")
        if self.chaos.seconds is not None:
            time.sleep(max(0.0, self.stopped_at + self.chaos.seconds - time.time()))
            self.restart()

    def restart(self) -> None:
        if self.stopped_at is not None and self.started_at is None:
            self._run(CHAOS_COMMANDS[self.chaos.piece][1], "starting")
            self.started_at = time.time()

    def window(self) -> dict[str, Any]:
        return {"piece": self.chaos.piece, "stopped_at": self.stopped_at, "started_at": self.started_at}


def _books(api: _Api, sale_id: int, seconds: float) -> dict | None:
    """The sale's books once they settle, or as they are after `seconds`."""
    deadline = time.monotonic() + seconds
    books = None
    while True:
        try:
            books = api.call("GET", f"/{sale_id}/books")
        except RehearsalError:
            books = None
        if (books and books["settled"]) or time.monotonic() > deadline:
            return books
        time.sleep(1)


def rehearse(options: Options, say: Callable[[str], None]) -> Outcome:
    """Play the rehearsal; its verdicts and where its report is."""
    api = _Api(options.address, options.token)
    sale_id, start_at, ours = _sale(api, options, say)
    plan = Plan(
        address=options.address,
        sale_id=sale_id,
        shoppers=options.shoppers,
        profile=options.profile,
        seconds=options.seconds,
        seed=options.seed,
        start_at=start_at,
        lead=options.lead,
        patience=options.patience,
        replay_share=options.replay_share,
        workers=options.workers + options.remote_workers,
        sources=default_sources(options.address) if options.sources is None else options.sources,
        shopper="storefront" if options.storefront_key else "pages",
    )
    out = options.out / f"sale-{sale_id}"
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "crowd.json"
    chaos = _ChaosPlayer(options.chaos, start_at, say) if options.chaos else None
    processes = _crowd(plan, options, results_path)
    if chaos:
        chaos.thread.start()
    try:
        try:
            processes[0].wait()
            for process in processes[1:]:
                process.wait(30)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
        if chaos and chaos.chaos.seconds is not None:
            chaos.thread.join()
        if not results_path.exists():
            raise RehearsalError(f"the crowd wrote no results ({results_path}): see Locust's output above")
        results: dict[str, Any] = json.loads(results_path.read_text())
        say(
            f"[rehearse] the crowd is done; reading the books (up to {options.thresholds.settle_seconds:.0f} s)"
        )
        books = _books(api, sale_id, options.thresholds.settle_seconds)
    finally:
        if chaos:
            chaos.restart()  # for=end: once the books are read; interrupted (Ctrl+C): at once
    if ours:
        try:
            api.call("POST", f"/{sale_id}/end")
        except RehearsalError as error:
            say(f"[rehearse] could not end the rehearsal's sale: {error}")
    window = chaos.window() if chaos else None
    verdicts = judge(results, books, options.thresholds, window)
    html, data = report.report_write(out, results=results, books=books, verdicts=verdicts, chaos=window)
    return Outcome(verdicts, html, data)
