"""Order ids are random version-4 UUIDs, never repeated, and a forked process (the
front's workers, granian's) never hands out its parent's: the ids come from a pool
filled by one read of the OS's randomness per batch (orders/buy/decision.py)."""

from __future__ import annotations

import os
import threading
import uuid

from orders.buy import decision


def test_ids_are_version_4_uuids_and_never_repeat_across_many_batches() -> None:
    ids = [decision.order_id_new() for _ in range(decision.ORDER_ID_BATCH * 8 + 3)]
    assert len(set(ids)) == len(ids)
    for order_id in ids[:: decision.ORDER_ID_BATCH // 4]:
        parsed = uuid.UUID(order_id)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == order_id


def test_threads_drawing_at_once_get_distinct_ids() -> None:
    drawn: list[list[str]] = [[] for _ in range(8)]

    def draw(out: list[str]) -> None:
        out.extend(decision.order_id_new() for _ in range(2_000))

    threads = [threading.Thread(target=draw, args=(out,)) for out in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [order_id for out in drawn for order_id in out]
    assert len(every) == 16_000 and len(set(every)) == len(every)


def test_a_forked_child_does_not_reuse_its_parents_pool() -> None:
    decision.order_id_new()  # the parent's pool now holds ids it has not handed out
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, to the parent
        try:
            os.close(read)
            os.write(write, "\n".join(decision.order_id_new() for _ in range(50)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        childs = pipe.read().split("\n")
    os.waitpid(pid, 0)
    parents = [decision.order_id_new() for _ in range(50)]
    assert len(childs) == 50
    assert not set(childs) & set(parents)
