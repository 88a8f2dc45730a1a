"""The real Redis answers, runs Lua scripts atomically and keeps an append-only file."""

from __future__ import annotations

import redis

SCRIPT = """
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
return {value, redis.call('TYPE', KEYS[1])['ok']}
"""


def test_lua_script_round_trip_by_sha(redis_conn: redis.Redis) -> None:
    script = redis_conn.register_script(SCRIPT)
    assert script(keys=["fg:{t}:n"], args=[5]) == [5, b"string"]
    # The second call goes by EVALSHA: the script is cached on the server.
    assert redis_conn.script_exists(script.sha) == [True]
    assert script(keys=["fg:{t}:n"], args=[2]) == [7, b"string"]


def test_append_only_file_is_on(redis_conn: redis.Redis) -> None:
    assert redis_conn.config_get("appendonly") == {"appendonly": "yes"}
