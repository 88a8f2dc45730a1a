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


def test_production_refuses_debug() -> None:
    result = start(FLUX_ENV="production", SECRET_KEY="x" * 50, ALLOWED_HOSTS="shop.example", DEBUG="true")
    assert result.returncode != 0
    assert "DEBUG" in result.stderr and "refused in production" in result.stderr


# What README ("Configuration", production) lists for a production deployment.
DOCUMENTED_PRODUCTION = {
    "FLUX_ENV": "production",
    "ALLOWED_HOSTS": "shop.example",
    "SECURE_HSTS_PRELOAD": "true",
}


def test_check_deploy_is_clean_with_the_documented_production_variables() -> None:
    import secrets

    # DJANGO_ALLOW_ASYNC_UNSAFE: set by the browser tests' conftest for this process, never a deployment's.
    dropped = {"SECRET_KEY", "FLUX_ENV", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("SECURE_")}
    environment.update(DOCUMENTED_PRODUCTION, SECRET_KEY=secrets.token_urlsafe(50))
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


PRODUCTION_HTTPS_SETTINGS = (
    "from django.conf import settings as s; "
    "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_PROXY_SSL_HEADER)"
)


def test_production_sends_https_settings_by_default_and_each_can_be_changed() -> None:
    base = {"FLUX_ENV": "production", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "shop.example"}
    check = "import django; django.setup(); " + PRODUCTION_HTTPS_SETTINGS
    run = lambda **env: subprocess.run(  # noqa: E731
        [sys.executable, "-c", check],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("SECURE_")},
            "DJANGO_SETTINGS_MODULE": "flux_admin.settings",
            **base,
            **env,
        },
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert run() == "True 31536000 True ('HTTP_X_FORWARDED_PROTO', 'https')"
    assert run(SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="60", SECURE_PROXY_SSL_HEADER="false") == (
        "False 60 True None"
    )
