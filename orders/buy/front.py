"""The one address's front door: buys answered on an event loop, the rest passed to nginx.

Under a flash sale nearly every request is a buy, and it used to cross two servers
before any of our code ran: nginx parsed it, sent it over a socket to granian,
which parsed it again and handed it to a thread, which then waited on Redis and on
Kafka (docs/BENCHMARKS.md, issue 20, measured what each hop cost). The front is
what people reach at FLUX_PORT, FLUX_FRONT_WORKERS processes sharing the port
(SO_REUSEPORT), each one asyncio loop (uvloop):

    POST /api/v1/sales/<id>/buy, POST /order
        parsed here and answered here, by the same edge and decision as every other
        server of these routes (orders/buy/edge.py, decision.py: the steps are driven
        with awaits instead of blocking calls); Redis over one pipelined connection
        (infra/redis_async.py), Kafka's acknowledgements served by this loop
        (orders/publisher.py, LoopOrderPublisher). The sold-out herd is answered
        without a coroutine: its steps end before any I/O.
    everything else (pages, the rest of the API, static files, websockets)
        the connection is handed to nginx (bin/proxy) on its Unix socket, with the
        client's address in a PROXY protocol header, and from then on its bytes are
        relayed both ways unread: nginx serves it exactly as when it was the front,
        Django's pages, daphne's websockets and all.

A buy the lane would not answer itself (a Host not allowed, a redirect to HTTPS, a
chunked body, Expect: 100-continue, HTTP/1.0, an encoded path, anything malformed)
goes to nginx the same way, so Django answers it as it always did. The headers the
front hands the edge are the ones nginx would have sent granian: X-Forwarded-For
is the client's address, X-Forwarded-Proto the scheme (or, with
FLUX_PROXY_TRUST_FORWARDED_PROTO, the TLS terminator's), header names with an
underscore are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import email.utils
import errno
import functools
import json
import logging
import os
import resource
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from infra.clients import lua_source
from infra.redis_async import AsyncHotScript, AsyncRedis
from orders.buy import decision, edge
from orders.buy.group import AsyncGroupCommit
from orders.buy.lane import INTERNAL_ERROR, STATUS_LINES, BuyFastLane
from orders.publisher import LoopOrderPublisher
from sales import keys

logger = logging.getLogger("django.request")

# Past these, nginx answers (431/400 for a head, 413 for a body): it is the one that did.
MAX_HEAD_BYTES = 8 * 1024
MAX_BODY_BYTES = 1024 * 1024  # bin/proxy's client_max_body_size
# Headers the lane cannot honour itself: the request goes to nginx and Django.
_PASS_ON_HEADERS = frozenset({"transfer-encoding", "expect", "upgrade"})
_PATH_PREFIXES = ("/api/v1/sales/", "/order")

# What a header line means to the lane (FrontConnection._parse): an environ key, or one of these.
_SKIP = object()  # dropped, as nginx drops it (a name with "_") or replaces it (X-Forwarded-For)
_REFUSE = object()  # a malformed name, or a header the lane cannot honour: nginx and Django answer
_LENGTH = object()
_CONNECTION = object()
_FORWARDED_PROTO = object()
_header_roles: dict[str, object] = {}  # per spelling of a name; bounded, since clients choose names


def _header_role(name: str) -> object:
    """What a header name means to the lane, worked out once per spelling."""
    if not name or name[0] in " \t" or name[-1] in " \t":
        role: object = _REFUSE  # a folded line, or space before the colon
    else:
        lowered = name.lower()
        if lowered == "content-length":
            role = _LENGTH
        elif lowered == "connection":
            role = _CONNECTION
        elif lowered in _PASS_ON_HEADERS:
            role = _REFUSE
        elif "_" in name or lowered == "x-forwarded-for":
            role = _SKIP  # nginx drops such names (underscores_in_headers off); sets X-Forwarded-For
        elif lowered == "x-forwarded-proto":
            role = _FORWARDED_PROTO
        elif lowered == "content-type":
            role = "CONTENT_TYPE"
        else:
            role = "HTTP_" + name.upper().replace("-", "_")
    if len(_header_roles) >= 1024:
        _header_roles.clear()
    _header_roles[name] = role
    return role


class Front:
    """One process's state: the lane's routing, Redis, the group commit, the publisher."""

    def __init__(self, *, upstream: str, trust_forwarded_proto: bool) -> None:
        self.loop = asyncio.get_running_loop()
        self.upstream = upstream
        self.trust_forwarded_proto = trust_forwarded_proto
        self.lane = BuyFastLane(django_app=None)  # type: ignore[arg-type]  (only its routing)
        self.redis = AsyncRedis()
        script = AsyncHotScript(
            self.redis, lua_source(decision.BUY_LUA), replicas=settings.REDIS_WAIT_REPLICAS
        )

        async def run_group(sale_id: int, idempotency_keys: list[str], args: list[object]) -> list:
            return await script(keys=keys.buy_script_keys(sale_id, *idempotency_keys), args=list(args))

        self.groups = AsyncGroupCommit(run_group)  # type: ignore[arg-type]
        self.publisher = LoopOrderPublisher(settings.KAFKA_ORDERS_TOPIC, self.loop)
        self.date = b""
        self._tick_date()
        self.in_flight: set[asyncio.Task[edge.Answer]] = set()
        self.scripts: dict[str, AsyncHotScript] = {}

    async def read(self, step: decision.Read) -> object:
        """A lookup script's reply, on this loop's connection (one script object per name)."""
        script = self.scripts.get(step.name)
        if script is None:
            script = self.scripts[step.name] = AsyncHotScript(self.redis, step.source)
        return await script(keys=list(step.keys), args=list(step.args))

    def _tick_date(self) -> None:
        self.date = email.utils.formatdate(usegmt=True).encode()
        self.loop.call_later(1.0, self._tick_date)

    def answer_now(self, steps: decision.Steps[edge.Answer]) -> edge.Answer | asyncio.Task[edge.Answer]:
        """The answer, if the steps end before any I/O (the herd, refusals), else the
        task that drives them."""
        try:
            step = next(steps)
            while isinstance(step, decision.KafkaAvailable):
                step = steps.send(self.publisher.available)
        except StopIteration as done:
            return done.value
        except Exception:  # what Django's handler would do: log it, answer 500, no traceback out
            logger.exception("Internal error on the buy front")
            return INTERNAL_ERROR
        task = self.loop.create_task(self._drive(steps, step))
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)
        return task

    async def _drive(self, steps: decision.Steps[edge.Answer], step: decision.Step) -> edge.Answer:
        """decision.run_sync's twin: each step awaited on this loop."""
        try:
            while True:
                try:
                    if isinstance(step, decision.Read):
                        value: object = await self.read(step)
                    elif isinstance(step, decision.Decide):
                        value = await self.groups.decide(step.sale_id, step.idempotency_key, step.args)
                    elif isinstance(step, decision.Publish):
                        value = await self.publisher.publish(
                            key=step.key, value=step.value, timeout=settings.BUY_KAFKA_ACK_TIMEOUT
                        )
                    else:
                        value = self.publisher.available
                except Exception as error:  # the steps handle it where they asked for it
                    step = steps.throw(error)
                    continue
                step = steps.send(value)
        except StopIteration as done:
            return done.value
        except Exception:
            logger.exception("Internal error on the buy front")
            return INTERNAL_ERROR


# The heads of refusals that do not depend on the shopper (sold out above all: the herd),
# each built once: (status, body, retry after, location, the extra headers, close) -> head.
_CACHED_STATUSES = frozenset({302, 409, 429})
_heads: dict[tuple[object, ...], bytes] = {}


def _head(answer: edge.Answer, extra: list[tuple[str, str]], close: bool) -> bytes:
    """The answer's head up to its Date header."""
    head = [f"HTTP/1.1 {STATUS_LINES[answer.status]}"]
    head.extend(f"{name}: {value}" for name, value in answer.headers())
    head.extend(f"{name}: {value}" for name, value in extra)
    head.append(f"Content-Length: {len(answer.body)}")
    if close:
        head.append("Connection: close")
    return "\r\n".join(head).encode("latin-1") + b"\r\nDate: "


def _response(front: Front, answer: edge.Answer, extra: list[tuple[str, str]], close: bool) -> bytes:
    if answer.status in _CACHED_STATUSES:
        key = (answer.status, answer.body, answer.retry_after, answer.location, id(extra), close)
        head = _heads.get(key)
        if head is None:
            if len(_heads) >= 1024:  # bodies name the sale: bounded, since anyone can name sales
                _heads.clear()
            head = _heads[key] = _head(answer, extra, close)
    else:
        head = _head(answer, extra, close)
    return b"".join((head, front.date, b"\r\n\r\n", answer.body))


def _header_not_ascii(head: bytes) -> str | None:
    """The name of a request header whose value is not ASCII (Cookie aside: another
    page of the site may set any cookie), or None.

    Header values are ASCII; granian drops one that is not before Django could see
    it, so an Idempotency-Key or X-Shopper-Token with other characters would be
    answered as missing. The front, which reads the raw bytes, refuses it by name,
    for the requests it reads (nginx does for the buy's own headers on the rest)."""
    for line in head.split(b"\r\n")[1:]:
        if not line.isascii():
            name = line.partition(b":")[0].decode("latin-1").strip()
            if name.lower() != "cookie":
                return name
    return None


def _not_ascii_answer(name: str) -> edge.Answer:
    detail = f"The {name} header is not ASCII: send only ASCII characters in it."
    body = {"status": "invalid", "detail": detail, "fields": {name: ["Not ASCII."]}}
    return edge.Answer(400, json.dumps(body).encode())


class _Upstream(asyncio.Protocol):
    """The connection to nginx that a client's connection was handed to."""

    def __init__(self, client: FrontConnection, first: bytes) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None
        self.pending: list[bytes] | None = [first]

    def send(self, data: bytes) -> None:
        if self.pending is not None:
            self.pending.append(data)
        else:
            self.transport.write(data)  # type: ignore[union-attr]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(b"".join(self.pending or ()))  # type: ignore[union-attr]
        self.pending = None
        if self.client.eof:
            self.transport.write_eof()  # type: ignore[union-attr]

    def data_received(self, data: bytes) -> None:
        self.client.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.transport.close()

    def pause_writing(self) -> None:
        self.client.transport.pause_reading()  # nginx is slower than the client: hold the client

    def resume_writing(self) -> None:
        self.client.transport.resume_reading()


class FrontConnection(asyncio.Protocol):
    """One client connection: its buys answered here, one at a time in order (HTTP/1.1
    pipelining keeps answers in request order), until a request that is not ours
    hands the whole connection over to nginx."""

    def __init__(self, front: Front) -> None:
        self.front = front
        self.buffer = b""
        self.busy = False  # a buy of this connection is being decided
        self.reading_paused = False
        self.close_after = False
        self.eof = False
        self.upstream: _Upstream | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = peer[0] if isinstance(peer, tuple) else "127.0.0.1"

    def data_received(self, data: bytes) -> None:
        if self.upstream is not None:
            self.upstream.send(data)
            return
        self.buffer += data
        if not self.busy:
            self._serve()
        elif len(self.buffer) > MAX_HEAD_BYTES + MAX_BODY_BYTES:
            # Pipelined requests pile up behind a buy in flight: stop reading until it is
            # answered, so that one connection cannot make this process hold unbounded bytes.
            self.transport.pause_reading()
            self.reading_paused = True

    def eof_received(self) -> bool:
        self.eof = True
        if self.upstream is not None:
            if self.upstream.transport is not None:
                self.upstream.transport.write_eof()  # the client is done sending; nginx answers still
            return True
        if self.busy:
            self.close_after = True
            return True  # answer the buy in flight, then close
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.upstream is not None and self.upstream.transport is not None:
            self.upstream.transport.close()

    def pause_writing(self) -> None:
        if self.upstream is not None and self.upstream.transport is not None:
            self.upstream.transport.pause_reading()  # the client reads slower than nginx sends

    def resume_writing(self) -> None:
        if self.upstream is not None and self.upstream.transport is not None:
            self.upstream.transport.resume_reading()

    # --- requests --------------------------------------------------------------------

    def _serve(self) -> None:
        """Answer every complete request in the buffer, in order, while they are buys.
        The buffer is cut once at the end, not after each request: a read that brings
        many pipelined requests costs one copy, not one per request."""
        buffer, start = self.buffer, 0
        try:
            while start < len(buffer) and not self.busy and not self.transport.is_closing():
                end = buffer.find(b"\r\n\r\n", start)
                if end < 0:
                    if len(buffer) - start > MAX_HEAD_BYTES:
                        break  # handed over below
                    return
                head = buffer[start:end]
                if not head.isascii():
                    name = _header_not_ascii(head)
                    if name is not None:  # granian would drop it, and the edge call it missing
                        self._send(_not_ascii_answer(name), self.front.lane.extra_headers or [], True)
                        return
                request = self._parse(buffer, start, end)
                if request is None:
                    break
                meta, length, close = request
                if len(buffer) < end + 4 + length:
                    return  # the body is still on its way
                route = self.front.lane.route(meta)
                if route is None:
                    break
                body = buffer[end + 4 : end + 4 + length]
                start = end + 4 + length
                sale_id, extra = route

                def read_body(_length: int, body: bytes = body) -> bytes:
                    return body

                if sale_id is None:
                    steps = edge.order_steps(meta, read_body)
                else:
                    steps = edge.buy_steps(sale_id, meta, read_body)
                answer = self.front.answer_now(steps)
                if isinstance(answer, edge.Answer):
                    self._send(answer, extra, close)
                else:
                    self.busy = True
                    answer.add_done_callback(functools.partial(self._answered, extra=extra, close=close))
                if close:
                    self.close_after = True
            else:
                return
            # Not ours: from this request on, the connection is nginx's.
            self.buffer, start = buffer[start:], 0
            self._hand_over()
        finally:
            if start:
                self.buffer = buffer[start:]

    def _answered(
        self, task: asyncio.Task[edge.Answer], *, extra: list[tuple[str, str]], close: bool
    ) -> None:
        self.busy = False
        self._send(task.result(), extra, close)
        if not self.transport.is_closing():
            if self.reading_paused:
                self.reading_paused = False
                self.transport.resume_reading()
            self._serve()

    def _send(self, answer: edge.Answer, extra: list[tuple[str, str]], close: bool) -> None:
        if self.transport.is_closing():
            return  # the client hung up; the decision stands (a retry of its key replays it)
        self.transport.write(_response(self.front, answer, extra, close or self.close_after))
        if close or (self.close_after and not self.busy):
            self.transport.close()

    def _parse(self, buffer: bytes, start: int, end: int) -> tuple[dict[str, str], int, bool] | None:
        """The head as the WSGI environ nginx and granian would have made of it, the
        body's length, and whether the client asked to close; None when the request
        is not one this lane answers (nginx and Django will).

        Hot path: what a header name means is worked out once per spelling of the name
        (_header_role, cached), so a line costs a partition, a lookup and a strip."""
        head = buffer[start:end]
        if not head.isascii():
            return None  # a cookie or a request line that is not ASCII (see _serve): nginx's
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or parts[0] != "POST" or parts[2] != "HTTP/1.1":
            return None
        path, _, query = parts[1].partition("?")
        if "%" in path or not path.startswith(_PATH_PREFIXES):
            return None  # decoding a path is nginx's and granian's to do, and rare for a buy
        meta = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",  # granian's peer was nginx
            "wsgi.url_scheme": "http",
        }
        length: str | None = None
        close = False
        forwarded_proto = None
        roles = _header_roles
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon:
                return None  # malformed: nginx answers it
            role = roles.get(name)
            if role is None:
                role = _header_role(name)
            if role.__class__ is str:  # a header the edge reads, under its environ key
                value = value.strip(" \t")
                meta[role] = f"{meta[role]},{value}" if role in meta else value
            elif role is _SKIP:
                continue
            elif role is _LENGTH:
                value = value.strip(" \t")
                if length is not None or not value.isdigit() or not value.isascii():
                    return None
                length = value
            elif role is _CONNECTION:
                close = close or "close" in value.lower()
            elif role is _FORWARDED_PROTO:
                forwarded_proto = value.strip(" \t")
            else:  # _REFUSE
                return None
        size = int(length or 0)
        if size > MAX_BODY_BYTES:
            return None
        if length is not None:
            meta["CONTENT_LENGTH"] = length
        meta["HTTP_X_FORWARDED_FOR"] = self.peer
        if self.front.trust_forwarded_proto:
            if forwarded_proto is not None:
                meta["HTTP_X_FORWARDED_PROTO"] = forwarded_proto
        else:
            meta["HTTP_X_FORWARDED_PROTO"] = "http"  # nginx's $scheme: the front speaks plain HTTP
        return meta, size, close

    def _hand_over(self) -> None:
        """From now on this connection is nginx's: the client's address goes first, in a
        PROXY protocol header, then everything the client sent and will send."""
        peer = self.transport.get_extra_info("peername") or ("127.0.0.1", 0)
        local = self.transport.get_extra_info("sockname") or ("127.0.0.1", 0)
        family = "TCP6" if ":" in peer[0] else "TCP4"
        header = f"PROXY {family} {peer[0]} {local[0]} {peer[1]} {local[1]}\r\n".encode()
        self.upstream = _Upstream(self, header + self.buffer)
        self.buffer = b""
        connecting = self.front.loop.create_unix_connection(lambda: self.upstream, self.front.upstream)
        self.front.loop.create_task(self._connect(connecting))

    async def _connect(self, connecting: object) -> None:
        try:
            await connecting  # type: ignore[misc]
        except OSError as error:
            logger.error("the front cannot reach nginx at %s: %s", self.front.upstream, error)
            body = b"The site is starting or restarting: try again in a moment.\n"
            self.transport.write(
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            self.transport.close()


def _listen(host: str, port: int, count: int) -> list[socket.socket]:
    """The front's sockets, one per worker, all on one port (SO_REUSEPORT: the kernel
    spreads new connections evenly across them). SO_REUSEPORT would as gladly let
    another checkout's front share the port and take half its connections: so the
    port must be free first (a plain bind says so), and all of them are bound at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))  # OSError EADDRINUSE: the port is someone else's
    sockets = []
    for _ in range(count):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(4096)
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


def _open_files_raised() -> None:
    """Each waiting-room websocket holds two of this process's files (the client's
    connection and nginx's) for as long as the shopper waits."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def serve_workers(
    *,
    host: str,
    port: int,
    workers: int,
    upstream: Path,
    trust_forwarded_proto: bool,
    run: Callable,
    port_wait_seconds: float = 15,
) -> None:
    """The front's processes: this one binds the port and keeps `workers` children
    serving it (each its own loop, `run(coroutine)`), starting again one that dies.
    A port still taken is tried again for `port_wait_seconds` (the workers of a front
    killed a moment ago finish their buys first), then refused.
    SIGTERM or SIGINT stops them all, each finishing its buys in flight. A child
    dies with this process (PR_SET_PDEATHSIG), so a front killed with -9 leaves no
    worker holding the port."""
    deadline = time.monotonic() + port_wait_seconds
    while True:  # the workers of a front killed a moment ago may still be finishing
        try:
            sockets = _listen(host, port, workers)
            break
        except OSError as error:
            if error.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    children: dict[int, int] = {}  # pid -> worker number
    stopping = False

    def start(number: int) -> None:
        pid = os.fork()
        if pid == 0:
            try:
                _die_with_parent()
                for other, sock in enumerate(sockets):
                    if other != number:
                        sock.close()
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                run(
                    serve(
                        sock=sockets[number], upstream=upstream, trust_forwarded_proto=trust_forwarded_proto
                    )
                )
            finally:
                os._exit(0)
        children[pid] = number

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for number in range(workers):
        start(number)
    logger.warning("front: http://%s:%d, %d workers, the rest to nginx at %s", host, port, workers, upstream)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        number = children.pop(pid, None)
        if number is not None and not stopping:
            logger.error("front worker %d (pid %d) died (status %d): starting it again", number, pid, status)
            time.sleep(0.2)
            start(number)


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent died before the call
        os._exit(1)


async def serve(*, sock: socket.socket, upstream: Path, trust_forwarded_proto: bool) -> None:
    """One worker: serve until SIGTERM or SIGINT; then stop taking connections, let the
    buys in flight finish (their acknowledgements are awaited), and flush the producer."""
    _open_files_raised()
    front = Front(upstream=str(upstream), trust_forwarded_proto=trust_forwarded_proto)
    server = await front.loop.create_server(lambda: FrontConnection(front), sock=sock)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        front.loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()
    if front.in_flight:
        await asyncio.wait(front.in_flight, timeout=settings.BUY_KAFKA_ACK_TIMEOUT + 1)
    await front.loop.run_in_executor(None, front.publisher.flush, 10)
