"""Production refuses to start with the development secret key (or none)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.servers import ROOT

CHECK = "import django; django.setup(); print('started')"


def start(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "FLUX_ENV", "DEBUG"}}
    environment.update(DJANGO_SETTINGS_MODULE="flux_admin.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", CHECK], cwd=ROOT, env=environment, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    "secret",
    [None, "flux-gate-development-key-not-for-production", "short"],
    ids=["missing", "development-key", "too-short"],
)
def test_production_refuses_a_weak_secret(secret: str | None) -> None:
    env = {"FLUX_ENV": "production", "ALLOWED_HOSTS": "shop.example"}
    if secret is not None:
        env["SECRET_KEY"] = secret
    result = start(**env)
    assert result.returncode != 0
    assert "production needs SECRET_KEY" in result.stderr


def test_production_starts_with_a_real_secret() -> None:
    result = start(FLUX_ENV="production", SECRET_KEY="x" * 50, ALLOWED_HOSTS="shop.example")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_a_malformed_boolean_is_refused() -> None:
    result = start(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr
