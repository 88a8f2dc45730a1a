"""Redis on an asyncio event loop, for the buy path's front (orders/buy/front.py).

One connection per process, pipelined: commands go out as they come and each
answer is the next reply on the wire (RESP, parsed by hiredis), so any number of
buys share the connection without waiting for each other's round trip and no
thread waits on a socket. It speaks the same server as the process's redis-py
client (REDIS_URL, or with REDIS_SENTINELS the primary the Sentinels name when
it connects) and raises redis-py's exceptions, so callers handle Redis being
down exactly as on the blocking path.

    AsyncRedis.execute(*args)          one command's reply
    AsyncHotScript(keys=..., args=...) a Lua script by EVALSHA, as infra.clients.HotScript:
                                       loaded once when the server lacks it, followed in the
                                       same write by WAIT when replicas must confirm

A command not answered within REDIS_SOCKET_TIMEOUT closes the connection (every
reply after it would be out of step): its waiters and those behind it get
TimeoutError, and the next command connects again.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib

import hiredis
import redis
from django.conf import settings

from infra.clients import ReplicasUnconfirmed, redis_client


def _pack(args: tuple[object, ...]) -> bytes:
    """A command in RESP: an array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _error(reply: redis.ResponseError) -> redis.ResponseError:
    """redis-py's exception for an error reply (NOSCRIPT: load the script)."""
    message = str(reply)
    if message.startswith("NOSCRIPT"):
        return redis.exceptions.NoScriptError(message)
    return reply


class _Connection(asyncio.Protocol):
    def __init__(self, lost: asyncio.Future[None]) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiters: collections.deque[asyncio.Future[object]] = collections.deque()
        self.reader = hiredis.Reader(replyError=redis.ResponseError)
        self.lost = lost

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.fail(redis.ConnectionError(f"Redis connection lost: {exc or 'closed by the server'}"))
        if not self.lost.done():
            self.lost.set_result(None)

    def fail(self, error: Exception) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_exception(error)


class AsyncRedis:
    def __init__(self) -> None:
        self._connection: _Connection | None = None
        self._connecting: asyncio.Future[_Connection] | None = None
        self._timeout = settings.REDIS_SOCKET_TIMEOUT

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        pool = redis_client().connection_pool
        options = pool.connection_kwargs
        if settings.REDIS_SENTINELS:
            # The Sentinels are asked with redis-py's blocking client, on a thread: only
            # when connecting, so a failover costs one question, not one per command.
            host, port = await loop.run_in_executor(None, pool.get_master_address)
        else:
            host, port = options.get("host", "127.0.0.1"), options.get("port", 6379)
        connection = _Connection(loop.create_future())
        try:
            if options.get("path"):
                connect = loop.create_unix_connection(lambda: connection, options["path"])
            else:
                connect = loop.create_connection(lambda: connection, host, port)
            await asyncio.wait_for(connect, settings.REDIS_SOCKET_TIMEOUT)
        except (OSError, TimeoutError) as error:
            raise redis.ConnectionError(f"Error connecting to Redis at {host}:{port}: {error}") from None
        setup: list[tuple[object, ...]] = []
        if options.get("password"):
            user = options.get("username")
            setup.append(("AUTH", user, options["password"]) if user else ("AUTH", options["password"]))
        if options.get("db"):
            setup.append(("SELECT", options["db"]))
        for command in setup:
            reply = await self._send(connection, [command])[0]
            if isinstance(reply, redis.ResponseError):
                connection.transport.close()  # type: ignore[union-attr]
                raise redis.ConnectionError(f"Redis refused {command[0]}: {reply}")
        return connection

    async def connection(self) -> _Connection:
        if self._connection is not None and self._connection.transport is not None:
            return self._connection
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._connect())
        connecting = self._connecting
        try:
            self._connection = await asyncio.shield(connecting)
        finally:
            if self._connecting is connecting and connecting.done():
                self._connecting = None
        return self._connection

    def _send(
        self, connection: _Connection, commands: list[tuple[object, ...]]
    ) -> list[asyncio.Future[object]]:
        """Write the commands in one write; one future per reply, in order."""
        loop = asyncio.get_running_loop()
        waiters = [loop.create_future() for _ in commands]
        connection.waiters.extend(waiters)
        connection.transport.write(b"".join(_pack(command) for command in commands))  # type: ignore[union-attr]
        loop.call_later(self._timeout, self._expire, connection, waiters[-1])
        return waiters

    @staticmethod
    def _expire(connection: _Connection, waiter: asyncio.Future[object]) -> None:
        if not waiter.done() and connection.transport is not None:
            connection.fail(redis.TimeoutError("Timeout reading from Redis"))
            connection.transport.abort()

    async def pipeline(self, *commands: tuple[object, ...]) -> list[object]:
        """Several commands in one write; their replies (an error reply as a
        ResponseError value, not raised: the caller decides).

        A node that answers READONLY was demoted in a failover: the connection is
        dropped and ConnectionError raised, as redis-py's Sentinel connections do,
        so that the next command asks the Sentinels for the new primary."""
        connection = await self.connection()
        replies = [await waiter for waiter in self._send(connection, list(commands))]
        for reply in replies:
            if isinstance(reply, redis.ResponseError) and str(reply).startswith("READONLY"):
                if connection.transport is not None:
                    connection.transport.abort()
                raise redis.ConnectionError(f"Redis answered as a replica: {reply}")
        return replies

    async def execute(self, *args: object) -> object:
        """One command's reply; an error reply is raised."""
        (reply,) = await self.pipeline(args)
        if isinstance(reply, redis.ResponseError):
            raise _error(reply)
        return reply


class AsyncHotScript:
    """infra.clients.HotScript on the event loop: EVALSHA, the source loaded once
    when the server lacks it, and WAIT for `replicas` replicas in the same write."""

    def __init__(self, client: AsyncRedis, source: str, *, replicas: int = 0) -> None:
        self.client = client
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()
        self.replicas = replicas

    async def _exchange(self, keys: list[str], args: list[object]) -> object:
        command = ("EVALSHA", self.sha, len(keys), *keys, *args)
        if not self.replicas:
            return await self.client.execute(*command)
        result, acknowledged = await self.client.pipeline(
            command, ("WAIT", self.replicas, settings.REDIS_WAIT_TIMEOUT_MS)
        )
        if isinstance(result, redis.ResponseError):
            raise _error(result)
        if acknowledged < self.replicas:  # type: ignore[operator]
            raise ReplicasUnconfirmed(f"{acknowledged} of {self.replicas} replica(s) acknowledged in time")
        return result

    async def _run(self, keys: list[str], args: list[object]) -> object:
        try:
            return await self._exchange(keys, args)
        except redis.exceptions.NoScriptError:
            # A new connection, a restarted Redis, a replica just promoted: load it once.
            await self.client.execute("SCRIPT", "LOAD", self.source)
            return await self._exchange(keys, args)

    async def __call__(self, *, keys: list[str], args: list[object]) -> object:
        """Run the script. A connection that broke (Redis restarted) is replaced
        once; scripts run here must make a repeat harmless (buy.lua: the
        idempotency key turns it into a replay)."""
        try:
            return await self._run(keys, args)
        except (redis.ConnectionError, redis.TimeoutError):
            return await self._run(keys, args)
