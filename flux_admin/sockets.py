"""What every websocket meets before its route: a refusal with a code, not a traceback.

Under daphne, a path no route matches (/ws/nope/, /ws/waiting-room/abc/, a missing
trailing slash) used to raise in Channels' URLRouter: a 500 and a traceback in the log
per request. And nothing capped the sockets one client could open: 2,000 sockets from
one address to made-up sale ids grew daphne from 124 to 201 MB (issue 22). Now:

    4400  the URL holds a NUL character (%00)
    4404  no such route (refused_socket, the last route), or no such sale (the consumers)
    4429  this client address already holds WS_SOCKETS_PER_ADDRESS sockets here

A refused socket is accepted, then closed with its code, so that a page (or a person
reading the browser's console) can tell why. The client's address is the one nginx
puts in X-Forwarded-For (its PROXY protocol peer: the front's client); daphne listens
on 127.0.0.1 only, so nothing else can set it. IPv6 addresses count per /64 (one
household or phone is handed a whole /64). Counts are per daphne process.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
from collections import Counter
from typing import Any

from django.conf import settings

from orders.buy.identity import address_group

Scope = dict[str, Any]

REFUSED_NUL, REFUSED_UNKNOWN, REFUSED_TOO_MANY = 4400, 4404, 4429


def _client_address(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            return value.decode("latin-1").split(",")[0].strip()
    client = scope.get("client")
    return client[0] if client else ""


async def refuse(receive: Any, send: Any, code: int) -> None:
    """Complete the handshake, then close with `code` (a handshake refused before it is
    accepted reaches the browser as a bare 403, with no code to read)."""
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": code})


async def refused_socket(scope: Scope, receive: Any, send: Any) -> None:
    """The last websocket route: any path the others do not match."""
    await refuse(receive, send, REFUSED_UNKNOWN)


class SocketGuard:
    """ASGI middleware around the websocket routes (flux_admin/asgi.py)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.open: Counter[str] = Counter()  # client address group -> sockets open here
        self.total = 0
        self.peak = 0  # the most sockets open at once since memory was last given back
        self.trim: asyncio.TimerHandle | None = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            return await refuse(receive, send, REFUSED_NUL)
        group = address_group(_client_address(scope))
        cap = settings.WS_SOCKETS_PER_ADDRESS
        if cap and self.open[group] >= cap:
            return await refuse(receive, send, REFUSED_TOO_MANY)
        self.open[group] += 1
        self.total += 1
        self.peak = max(self.peak, self.total)
        try:
            return await self.app(scope, receive, send)
        finally:
            self.open[group] -= 1
            if not self.open[group]:
                del self.open[group]
            self.total -= 1
            self._give_memory_back()

    def _give_memory_back(self) -> None:
        """Once a crowd of sockets has gone (at least WS_MEMORY_RETURN_SOCKETS closed,
        at most half of the peak left) and no socket has closed for a second, collect
        what they left and hand the freed heap back to the OS. Rare by design: a full
        collection walks every object of the sockets still open."""
        gone = self.peak - self.total
        if gone < settings.WS_MEMORY_RETURN_SOCKETS or self.total > self.peak // 2:
            return
        if self.trim is not None:
            self.trim.cancel()  # still leaving: wait for the last of them
        self.trim = asyncio.get_running_loop().call_later(1.0, self._trim)

    def _trim(self) -> None:
        self.trim = None
        self.peak = self.total
        gc.collect()
        with contextlib.suppress(OSError, AttributeError):  # not glibc: the collection alone
            ctypes.CDLL("libc.so.6").malloc_trim(0)
