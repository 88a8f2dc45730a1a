"""As root, bin/stack runs PostgreSQL in a clone the `postgres` user cannot enter.

Root's home (/root) is mode 700, so a first `make run` there used to stop at
initdb: the server runs as `postgres` and could not reach `.stack/postgres/data`.
This test makes such a folder, brings a stack's PostgreSQL up inside it on ports
of its own, talks to it as the project's role and stops it again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.support.servers import ROOT, free_port

# Where bin/stack keeps PostgreSQL's files when the postgres user cannot reach the clone.
VAR_LIB = Path("/var/lib/flux-gate")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0,
        reason="the bug exists only as root: as another user PostgreSQL runs as that user, who owns the clone",
    ),
]


@dataclass
class PrivateClone:
    folder: Path  # the clone, inside a mode-700 folder owned by root
    env: dict[str, str]
    pg_port: int

    def stack(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run bin/stack from inside the clone, as a user there would."""
        return subprocess.run(
            [str(ROOT / "bin" / "stack"), *args],
            capture_output=True,
            text=True,
            timeout=180,
            env=self.env,
            cwd=self.folder,
        )


@pytest.fixture
def private_clone() -> Iterator[PrivateClone]:
    """A stack directory below a mode-700 folder, like a clone under /root.

    Afterwards the server is stopped and every file it left is removed,
    including any folder bin/stack put outside the clone for PostgreSQL."""
    home = Path(tempfile.mkdtemp(prefix="flux-private-home-", dir="/tmp"))
    home.chmod(0o700)
    folder = home / "flux-gate"
    folder.mkdir()
    state = folder / ".stack"
    pg_port = free_port()
    env = {
        **os.environ,
        "FLUX_STACK": "native",  # this test is about the native stack, whatever the run's servers
        "FLUX_STACK_DIR": str(state),
        "FLUX_PG_PORT": str(pg_port),
        "FLUX_REDIS_PORT": str(free_port()),
        "FLUX_KAFKA_PORT": str(free_port()),
        "FLUX_KAFKA_CONTROLLER_PORT": str(free_port()),
    }
    clone = PrivateClone(folder=folder, env=env, pg_port=pg_port)
    try:
        yield clone
    finally:
        clone.stack("down", "postgres")
        # Wherever PostgreSQL's folder really is (the link's target, if any),
        # the folder that holds it was made for this stack alone.
        outside = Path(os.path.realpath(state / "postgres"))
        if outside.parent.parent == VAR_LIB:
            shutil.rmtree(outside.parent, ignore_errors=True)
            with contextlib.suppress(OSError):  # still holds another stack's folder
                VAR_LIB.rmdir()
        shutil.rmtree(home, ignore_errors=True)


def test_postgres_runs_in_a_clone_the_postgres_user_cannot_enter(private_clone: PrivateClone) -> None:
    up = private_clone.stack("up", "postgres")
    assert up.returncode == 0, f"bin/stack up postgres failed:\n{up.stdout}\n{up.stderr}"

    with psycopg.connect(
        host="127.0.0.1",
        port=private_clone.pg_port,
        user="flux",
        password="flux",
        dbname="flux",
        connect_timeout=10,
    ) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)

    status = private_clone.stack("status", "postgres")
    assert status.returncode == 0, status.stderr
    assert "postgres running" in status.stdout

    down = private_clone.stack("down", "postgres")
    assert down.returncode == 0, f"bin/stack down postgres failed:\n{down.stdout}\n{down.stderr}"
    assert "postgres stopped" in private_clone.stack("status", "postgres").stdout
