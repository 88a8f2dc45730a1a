"""What a rehearsal plays, as plain data: the crowd's arrivals, the chaos, the
thresholds. No Django here: rehearsal/locustfile.py imports it on Locust workers
that may run on machines with nothing of Flux-Gate configured."""

from __future__ import annotations

import ipaddress
import json
import math
import random
import re
import urllib.parse
from dataclasses import asdict, dataclass, field

# How the crowd arrives over the plan's window of `seconds` (t = 0 is the sale's start).
PROFILES = {
    "spike": "everyone within the window's first tenth, as when a drop is announced",
    "ramp": "arrivals rise steadily from none to their peak at the window's end",
    "flat": "the same arrival rate over the whole window",
    "prequeue": "everyone in the line before the start (the sale's pre-queue), released at t = 0 by its draw",
}
PIECES = ("consumer", "kafka", "redis", "postgres")
STOREFRONT_ENV = "FLUX_REHEARSE_STOREFRONT"  # <key id>:<secret> of a storefront key, for --storefront
TOKEN_ENV = "FLUX_REHEARSE_TOKEN"  # the merchant's API token: the master reads the sale's figures
RESULTS_ENV = "FLUX_REHEARSE_RESULTS"  # where the master writes what it collected


@dataclass(frozen=True)
class Plan:
    """One rehearsal, as the crowd's processes receive it (JSON on their command line)."""

    address: str  # the one address people use, e.g. http://127.0.0.1:8000
    sale_id: int
    shoppers: int
    profile: str
    seconds: float  # the arrival window
    seed: int
    start_at: float  # unix time of t = 0: the sale's start
    lead: float = 0.0  # prequeue: how long before the start the line is open
    patience: float = 60.0  # how long a shopper stays in the line after the window
    replay_share: float = 0.1  # shoppers who send their accepted buy again, same key
    workers: int = 0  # 0: one process; else Locust workers under a master
    # The client addresses the shoppers connect from (an IPv4 network, e.g. 127.1.0.0/16),
    # "" for the machine's own: the product caps what one address may do (places in the
    # line, websockets), so a crowd from one address is not a crowd.
    sources: str = ""
    # Who the shoppers are: "pages" (the hosted pages' cookie, the line) or "storefront"
    # (a shop's backend signs each one an X-Shopper-Token and retries a rate_limited buy).
    shopper: str = "pages"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Plan:
        return cls(**json.loads(text))

    @property
    def deadline(self) -> float:
        """Unix time after which no shopper waits any longer."""
        return self.start_at + self.seconds + self.patience


def shopper_draw(plan: Plan, worker: int, n: int) -> random.Random:
    """The n-th shopper of a worker's random numbers: the same plan and seed (and number
    of workers) play the same crowd again."""
    return random.Random(f"{plan.seed}:{worker}:{n}")


def source_address(plan: Plan, draw: random.Random) -> str | None:
    """The address a shopper connects from: one host of the plan's network, drawn."""
    if not plan.sources:
        return None
    network = ipaddress.ip_network(plan.sources)
    return str(network.network_address + 1 + draw.randrange(max(1, network.num_addresses - 2)))


def default_sources(address: str) -> str:
    """On this machine (a loopback address), a crowd spread over 127.1.0.0/16 (all of
    127.0.0.0/8 is this machine's); elsewhere the machine's own address."""
    host = urllib.parse.urlsplit(address).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return "127.1.0.0/16" if loopback else ""


def arrival_offset(profile: str, seconds: float, lead: float, u: float) -> float:
    """When a shopper arrives, in seconds from the start, for u uniform in [0, 1)."""
    if profile == "spike":
        return seconds * 0.1 * u
    if profile == "ramp":
        return seconds * math.sqrt(u)  # density rising linearly: its integral is t**2
    if profile == "flat":
        return seconds * u
    if profile == "prequeue":
        return -lead * (1 - u)  # in the line before the start
    raise ValueError(f"unknown profile {profile!r}: one of {', '.join(PROFILES)}")


@dataclass(frozen=True)
class Chaos:
    """Stop one piece of the native stack at `at` seconds after the start, for `seconds`
    (None: until the rehearsal ends)."""

    piece: str
    at: float
    seconds: float | None


_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)s?\Z")


def _duration(text: str, what: str) -> float:
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"{what}={text!r}: give seconds, e.g. {what}=10s")
    return float(match.group(1))


def chaos_parse(spec: str) -> Chaos:
    """`piece[:at=30s,for=10s]` (for=end: stopped until the rehearsal ends)."""
    piece, _, options = spec.partition(":")
    if piece not in PIECES:
        raise ValueError(f"--chaos {spec!r}: the piece is one of {', '.join(PIECES)}")
    at, seconds = 10.0, 10.0
    for option in filter(None, options.split(",")):
        name, equals, value = option.partition("=")
        if not equals or name not in ("at", "for"):
            raise ValueError(f"--chaos {spec!r}: options are at=<seconds> and for=<seconds or end>")
        if name == "at":
            at = _duration(value, "at")
        elif value.strip() == "end":
            seconds = None
        else:
            seconds = _duration(value, "for")
    return Chaos(piece, at, seconds)


@dataclass(frozen=True)
class Thresholds:
    """Where each verdict passes (a JSON file of these names, then flags, override them)."""

    p99_ms: float = 2000.0  # every answer the crowd got, 99th percentile
    tau: float = 0.9  # Kendall's tau of admission order against join order
    update_ms: float = 1000.0  # a waiting-room update's age when the page receives it, p99
    settle_seconds: float = 60.0  # how long the books get to settle after the crowd is done

    @classmethod
    def from_file(cls, path: str) -> Thresholds:
        with open(path) as file:
            values = json.load(file)
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(
                f"{path}: unknown thresholds {sorted(unknown)}; known: {sorted(cls.__dataclass_fields__)}"
            )
        return cls(**{name: float(value) for name, value in values.items()})

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass
class Seconds:
    """Answers per second of the crowd, as the workers count them and the master merges:
    {second: {"2xx": n, ..., "ms": {latency ms: n}, "buy_ms": {...}}}: every answer's
    time, and the buys' alone (the decision a shopper waits for)."""

    by_second: dict[int, dict] = field(default_factory=dict)

    def add(self, second: int, kind: str, ms: int, *, buy: bool = False) -> None:
        bucket = self.by_second.setdefault(second, {"ms": {}, "buy_ms": {}})
        bucket[kind] = bucket.get(kind, 0) + 1
        for times in (bucket["ms"], bucket["buy_ms"]) if buy else (bucket["ms"],):
            times[ms] = times.get(ms, 0) + 1

    def merge(self, other: dict) -> None:
        for second, bucket in other.items():
            mine = self.by_second.setdefault(int(second), {"ms": {}, "buy_ms": {}})
            for kind, value in bucket.items():
                if kind in LATENCIES:
                    times = mine.setdefault(kind, {})
                    for ms, n in value.items():
                        times[int(ms)] = times.get(int(ms), 0) + n
                else:
                    mine[kind] = mine.get(kind, 0) + value


LATENCIES = ("ms", "buy_ms")  # a Seconds bucket's latency counts; every other key counts answers


def answer_kind(status: int | None) -> str:
    """2xx, 3xx, 4xx, 5xx, or error (no answer: the connection failed)."""
    if not status:
        return "error"
    return f"{status // 100}xx"
