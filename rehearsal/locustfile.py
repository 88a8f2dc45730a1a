"""The crowd of a rehearsal, as a Locust scenario: each shopper plays the hosted
pages' journey against the plan's address, once, at its own arrival time.

    the sale page (GET /sales/<id>/): the shopper cookie, after the page's proof of
        work when the sale asks one (waitingroom/hashcash.py solves what proof.js does)
    Buy (POST /api/v1/sales/<id>/buy, Accept: application/json, a fresh Idempotency-Key);
        a share of the accepted send it again with the same key (the answer must match)
    turned away (429 rate_limited): the waiting room's page, its websocket (present
        while open), its ticks until the shopper's ticket comes up, the admission, Buy
        with the Admission-Token

Run it through `manage.py rehearse` (rehearsal/run.py starts Locust with the plan),
alone or as a master and workers: a worker on another machine needs only this
repository's code and `locust -f rehearsal/locustfile.py --worker --master-host <host>`;
the master sends it the plan.

Workers report to the master with Locust's messages: each shopper's record (its
outcome, ticket, admission time, the age of its waiting-room updates) and, with it,
the answers per second counted since the last report. The master (or the single
process) samples the sale's figures every second, prints the progress, stops the
run when every shopper has reported, and writes the results file rehearsal/run.py
judges.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import re
import socket
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import gevent
import requests
import requests.adapters
import websocket
from locust import HttpUser, events, task
from locust.exception import StopUser
from locust.runners import WorkerRunner

from rehearsal.plan import (
    LATENCIES,
    RESULTS_ENV,
    STOREFRONT_ENV,
    TOKEN_ENV,
    Plan,
    Seconds,
    answer_kind,
    arrival_offset,
    shopper_draw,
    source_address,
)
from rehearsal.verdicts import percentile
from waitingroom.hashcash import solve

BODY = '{"quantity": 1}'
_attribute = {
    name: re.compile(rf'data-{name}="([^"]*)"')
    for name in ("challenge", "csrf", "proof-bits", "place", "presence", "ticket", "drawn-ms")
}


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    parser.add_argument("--plan", default="", help="the rehearsal's plan (JSON; rehearsal/run.py writes it)")


class _Process:
    """This process's share: its plan, its shoppers' numbers, the answers not yet reported."""

    plan: Plan
    numbers = itertools.count()
    seconds = Seconds()


# Answers after which a shopper clicks Buy again, with the same key: the service was
# unavailable (503), or no answer came (a connection refused or cut: status 0).
_TRY_AGAIN = frozenset({"unavailable", "http_0", "http_500", "http_502", "http_503", "http_504"})
_TITLE = re.compile(r"<title>([^<·]*)")
_PAGE_STATES = {"Sold out": "sold_out", "Sale ended": "ended", "No such sale": "not_found"}


def _attr(html: str, name: str) -> str | None:
    found = _attribute[name].search(html)
    return found.group(1) if found else None


def _report(environment: Any, shopper: dict | None) -> None:
    """Send the answers counted since the last report (and a shopper's record) to the master."""
    counted, _Process.seconds = _Process.seconds, Seconds()
    environment.runner.send_message("rehearsal", {"seconds": counted.by_second, "shopper": shopper})


@events.request.add_listener
def _count(
    name: str = "", response: Any = None, response_time: float = 0, start_time: float | None = None, **_: Any
) -> None:
    status = getattr(response, "status_code", None)
    answered = (start_time or time.time()) + response_time / 1000
    _Process.seconds.add(int(answered), answer_kind(status), int(response_time), buy=name.startswith("buy"))


class _FromAddress(requests.adapters.HTTPAdapter):
    """A shopper's connections, from its own client address (Plan.sources)."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


class Shopper(HttpUser):
    """One shopper, one journey."""

    def on_start(self) -> None:
        plan = _Process.plan
        self.plan = plan
        worker = getattr(self.environment.runner, "worker_index", 0)
        n = next(_Process.numbers)
        draw = shopper_draw(plan, worker, n)
        self.record: dict[str, Any] = {"who": f"w{worker}-{n}", "outcome": None}
        self.client.headers["Accept-Language"] = "en"  # the pages' words, read for their state
        self.arrival = arrival_offset(plan.profile, plan.seconds, plan.lead, draw.random())
        self.replays = draw.random() < plan.replay_share
        self.proof: dict[str, str] = {}  # a storefront shopper's token (the pages' is the cookie)
        self.source = source_address(plan, draw)
        if self.source is not None:
            self.record["source"] = self.source
            for scheme in ("http://", "https://"):
                self.client.mount(scheme, _FromAddress(self.source))

    @task
    def journey(self) -> None:
        try:
            gevent.sleep(max(0.0, self.plan.start_at + self.arrival - time.time()))
            self.record["arrived_at"] = time.time()
            self._journey()
        except (StopUser, gevent.GreenletExit):
            raise
        except Exception as error:  # a shopper's journey broke: reported, never silent
            self.record["outcome"] = "error"
            self.record["error"] = f"{type(error).__name__}: {error}"[:300]
        finally:
            if self.record["outcome"] is None:
                self.record["outcome"] = "gave_up"
            _report(self.environment, self.record)
        raise StopUser()

    # --- the journey -----------------------------------------------------------------

    def _journey(self) -> None:
        if self.plan.shopper == "storefront":
            return self._shop_journey()
        if not self._identity():
            return
        if time.time() >= self.plan.start_at:  # in a pre-queue, the line comes first
            status, answer = self._buy(uuid.uuid4().hex, None, "buy")
            if status != "rate_limited":
                return self._decided(status, answer)
        self._wait_in_line()

    def _identity(self) -> bool:
        """The sale page and, when it asks one, its proof of work: the shopper cookie.
        A 503 (Redis away) is tried again a second later, as a shopper reloads."""
        sale = self.plan.sale_id
        while True:
            page = self.client.get(f"/sales/{sale}/", name="sale page")
            if page.status_code >= 500 or page.status_code == 0:
                if time.time() >= self.plan.deadline:
                    self.record["outcome"] = f"sale_page_{page.status_code}"
                    return False
                self.record["tries_again"] = self.record.get("tries_again", 0) + 1
                gevent.sleep(1)  # the page did not load: the shopper reloads it
                continue
            challenge = _attr(page.text, "challenge")
            if challenge is None:
                return True
            bits = int(_attr(page.text, "proof-bits") or 0)
            proof = self.client.post(
                f"/sales/{sale}/shopper.json",
                data={"challenge": challenge, "nonce": solve(challenge, bits)},
                headers={"X-CSRFToken": _attr(page.text, "csrf") or "", "Origin": self.plan.address},
                name="proof",
            )
            if proof.status_code == 200:
                return True
            if proof.status_code < 500 or time.time() >= self.plan.deadline:
                self.record["outcome"] = f"proof_{proof.status_code}"
                return False
            self.record["tries_again"] = self.record.get("tries_again", 0) + 1
            gevent.sleep(1)

    def _shop_journey(self) -> None:
        """A storefront's shopper: the shop's backend signs its token (the documented
        format: README, "Who the shopper is"), buys for it, and when told rate_limited
        tries again with the same key after the Retry-After (the hosted line is the
        pages' shoppers')."""
        key_id, _, secret = os.environ.get(STOREFRONT_ENV, "").partition(":")
        ref = f"r{self.plan.seed}-{int(self.plan.start_at)}-{self.record['who']}"
        signed = f"{key_id}.{ref}.{int(time.time()) + 3600}"
        signature = hmac.new(secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
        self.proof = {"X-Shopper-Token": f"{signed}.{signature}"}
        key = uuid.uuid4().hex
        status, answer = self._buy(key, None, "buy")
        while status == "rate_limited" and time.time() < self.plan.deadline:
            self.record["tries_again"] = self.record.get("tries_again", 0) + 1
            gevent.sleep(answer.get("_retry_after") or 1)
            status, answer = self._buy(key, None, "buy")
        self._decided(status, answer)

    def _buy(self, key: str, admission: str | None, name: str) -> tuple[str, dict]:
        headers = {"Content-Type": "application/json", "Accept": "application/json", "Idempotency-Key": key}
        headers.update(self.proof)
        if admission:
            headers["Admission-Token"] = admission
        path = f"/api/v1/sales/{self.plan.sale_id}/buy"
        with self.client.post(path, data=BODY, headers=headers, name=name, catch_response=True) as reply:
            if reply.status_code < 500 and reply.status_code:
                reply.success()  # 409 sold out, 429 to the line: answers, not failures
            try:
                answer = reply.json()
            except ValueError:
                answer = {}
        answer["_key"] = key
        answer["_retry_after"] = float(reply.headers.get("Retry-After") or 0)
        status = str(answer.get("status") or f"http_{reply.status_code}")
        if status in _TRY_AGAIN and time.time() < self.plan.deadline:
            # What the page does: the shopper is told to try again, and clicks again with
            # the same key (the API recorded nothing for it), after the Retry-After it sent.
            self.record["tries_again"] = self.record.get("tries_again", 0) + 1
            gevent.sleep(float(reply.headers.get("Retry-After") or 1))
            return self._buy(key, admission, name)
        return status, answer

    def _decided(self, status: str, answer: dict) -> None:
        self.record["outcome"] = status
        if status in ("accepted", "accepted_pending"):
            self.record["order_id"] = answer.get("order_id")
            if self.replays:  # a retry of the same purchase: the same order, never a second
                again, replay = self._buy(answer["_key"], None, "buy (same key)")
                self.record["replay"] = {"status": again, "order_id": replay.get("order_id")}

    def _wait_in_line(self) -> None:
        sale, record = self.plan.sale_id, self.record
        while True:
            reply = self.client.get(f"/waiting-room/{sale}/", name="waiting room")
            room, place = reply.text, _attr(reply.text, "place")
            failed = reply.status_code >= 500 or reply.status_code == 0 or place == "unknown"
            if not failed or time.time() >= self.plan.deadline:
                break
            # The page failed, or Redis did not answer the join: the shopper reloads a second later.
            self.record["tries_again"] = self.record.get("tries_again", 0) + 1
            gevent.sleep(1)
        if place not in ("waiting", "admitted"):
            # No place: the page says why (its title, in English: the client asks for it).
            said = _TITLE.search(room)
            title = said.group(1).strip() if said else ""
            record["outcome"] = _PAGE_STATES.get(title) or f"no_place:{place or reply.status_code}"
            return
        record["joined_at"] = time.time()
        ticket = int(_attr(room, "ticket") or 0) or None
        drawn = int(_attr(room, "drawn-ms") or 0)
        csrf = _attr(room, "csrf") or ""
        record["ticket"] = ticket
        ages: list[int] = []
        record["update_ms"] = ages
        watched = False
        for tick in self._ticks(_attr(room, "presence") or ""):
            ages.append(int(time.time() * 1000 - tick["now_ms"]))
            if tick.get("drawn_ms") and tick["drawn_ms"] != drawn:  # the pre-queue's draw
                drawn = tick["drawn_ms"]
                ticket = record["ticket"] = self._place_after_draw() or ticket
            if tick["status"] in ("sold_out", "ended"):
                record["outcome"] = tick["status"]
                return
            polled = (tick.get("place") or {}).get("status")
            turn = place == "admitted" or polled == "admitted"
            turn = turn or (tick["status"] == "live" and bool(ticket) and ticket <= tick["serving"])
            if turn and self._admitted(csrf, tick["now_ms"] if watched else None):
                return
            # This shopper saw the line before its turn: the tick current when the server
            # says it is in is the tick that let it in (a page that connects late would
            # date its admission by its first tick instead). Polls are each their own time.
            watched = watched or (record["channel"] == "websocket" and not turn)

    def _ticks(self, presence: str) -> Iterator[dict]:
        """The line's updates, as the page gets them: its websocket (present while it is
        open); refused or closed (a cap of sockets per address, say), polls of
        status.json each second with the page's presence token."""
        sale = self.plan.sale_id
        cookies = "; ".join(f"{name}={value}" for name, value in self.client.cookies.items())
        url = self.plan.address.replace("http", "ws", 1) + f"/ws/waiting-room/{sale}/"
        try:
            options: dict[str, Any] = {}
            if self.source:  # from the shopper's own address (plain HTTP: a loopback rehearsal)
                target = urllib.parse.urlsplit(self.plan.address)
                where = (target.hostname, target.port or 80)
                options["socket"] = socket.create_connection(
                    where, timeout=5, source_address=(self.source, 0)
                )
            ws = websocket.create_connection(
                url, cookie=cookies, origin=self.plan.address, timeout=5, **options
            )
        except (websocket.WebSocketException, OSError) as error:
            self.record["socket_refused"] = f"{type(error).__name__}: {error}"[:200]
            ws = None
        if ws is not None:
            self.record["channel"] = "websocket"
            try:
                while time.time() < self.plan.deadline:
                    try:
                        yield json.loads(ws.recv())
                    except websocket.WebSocketTimeoutException:
                        continue
            except (websocket.WebSocketException, OSError):
                pass  # closed: poll instead, as the page does
            finally:
                ws.close()
        self.record["channel"] = "polling"
        while time.time() < self.plan.deadline:
            reply = self.client.get(
                f"/waiting-room/{sale}/status.json?presence={presence}",
                headers={"Accept": "application/json"},
                name="status",
            )
            if reply.status_code == 200:
                answer = reply.json()
                presence = answer.get("presence", presence)
                yield answer
            gevent.sleep(1)

    def _place_after_draw(self) -> int | None:
        answer = self.client.get(
            f"/waiting-room/{self.plan.sale_id}/status.json",
            headers={"Accept": "application/json"},
            name="status",
        ).json()
        place = answer.get("place") or {}
        return place.get("ticket") if place.get("status") == "waiting" else None

    def _admitted(self, csrf: str, tick_ms: int | None) -> bool:
        """Ask for the turn; when it is there, Buy with it. True when the journey is over.
        `tick_ms`: the server's time of the tick current now, for the admission order."""
        answer = self.client.post(
            f"/waiting-room/{self.plan.sale_id}/admission.json",
            headers={"X-CSRFToken": csrf, "Origin": self.plan.address, "Accept": "application/json"},
            name="admission",
        ).json()
        if answer.get("admitted"):
            if tick_ms is not None:
                self.record["turn_ms"] = tick_ms
            status, bought = self._buy(uuid.uuid4().hex, answer["admission_token"], "buy (admitted)")
            self._decided(status, bought)
            return True
        if (answer.get("place") or {}).get("status") == "none":
            self.record["outcome"] = "lost_place"
            return True
        return False


# --- the master (or the one process) ------------------------------------------------------


class _Collected:
    shoppers: list[dict] = []
    seconds = Seconds()
    timeline: list[dict] = []


@events.init.add_listener
def _init(environment: Any, **_: Any) -> None:
    text = getattr(environment.parsed_options, "plan", "") if environment.parsed_options else ""
    if not text:
        return  # the master sends the plan to its workers: they read it on test_start
    _start(environment, Plan.from_json(text))


@events.test_start.add_listener
def _test_start(environment: Any, **_: Any) -> None:
    if not hasattr(_Process, "plan") and environment.parsed_options and environment.parsed_options.plan:
        _start(environment, Plan.from_json(environment.parsed_options.plan))


def _start(environment: Any, plan: Plan) -> None:
    _Process.plan = plan
    environment.host = plan.address
    Shopper.host = plan.address
    if isinstance(environment.runner, WorkerRunner):
        gevent.spawn(_flush_every_second, environment)
        return
    environment.runner.register_message("rehearsal", _received)
    gevent.spawn(_sample_every_second, environment, plan)


def _flush_every_second(environment: Any) -> None:
    while True:
        gevent.sleep(1)
        _report(environment, None)


def _received(environment: Any, msg: Any, **_: Any) -> None:
    _Collected.seconds.merge(msg.data["seconds"])
    if msg.data["shopper"] is not None:
        _Collected.shoppers.append(msg.data["shopper"])
        if len(_Collected.shoppers) >= _Process.plan.shoppers:
            # Everyone is done. With the web UI the run stops and --autoquit ends Locust.
            headless = environment.parsed_options is None or environment.parsed_options.headless
            gevent.spawn_later(0.2, environment.runner.quit if headless else environment.runner.stop)


def _sample_every_second(environment: Any, plan: Plan) -> None:
    """The sale's figures each second (what the merchant's API and the public line say),
    and the progress line."""
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {os.environ.get(TOKEN_ENV, '')}"
    while True:
        gevent.sleep(1 - time.time() % 1)
        now = time.time()
        point: dict[str, Any] = {"t": now}
        try:
            figures = api.get(f"{plan.address}/api/v1/sales/{plan.sale_id}", timeout=2).json()["figures"]
            point.update(
                sold=figures["sold"], quantity=figures["quantity"], persisted=figures["persisted_orders"]
            )
        except (requests.RequestException, ValueError, KeyError):
            pass  # a second without figures (the chaos window may take the API's Redis away)
        try:
            line = requests.get(f"{plan.address}/waiting-room/{plan.sale_id}/status.json", timeout=2).json()
            point["waiting"] = line.get("waiting")
        except (requests.RequestException, ValueError):
            pass
        _Collected.timeline.append(point)
        last = _Collected.seconds.by_second.get(int(now) - 1, {"ms": {}})
        answers = sum(n for kind, n in last.items() if kind not in LATENCIES)
        print(
            f"[rehearse] t={now - plan.start_at:+6.0f}s users {environment.runner.user_count:>6} "
            f"answers/s {answers:>6} sold {point.get('sold', '?')}/{point.get('quantity', '?')} "
            f"waiting {point.get('waiting', '?')} p50 {percentile(last['ms'], 0.5)} ms "
            f"p99 {percentile(last['ms'], 0.99)} ms done {len(_Collected.shoppers)}/{plan.shoppers}",
            flush=True,
        )


@events.quitting.add_listener
def _write_results(environment: Any, **_: Any) -> None:
    path = os.environ.get(RESULTS_ENV)
    if not path or isinstance(environment.runner, WorkerRunner) or not hasattr(_Process, "plan"):
        return
    with open(path, "w") as file:
        json.dump(
            {
                "plan": json.loads(_Process.plan.to_json()),
                "shoppers": _Collected.shoppers,
                "seconds": _Collected.seconds.by_second,
                "timeline": _Collected.timeline,
            },
            file,
        )
