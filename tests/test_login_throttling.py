"""Signing in cannot be brute-forced: after a few wrong passwords for one
merchant from one address, even the right password is refused for a while
(django-axes); and a merchant cannot be created with a weak password."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client

from sales.models import Sale
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
FAILURE_LIMIT = getattr(settings, "AXES_FAILURE_LIMIT", 5)


def sign_in(client: Client, username: str, password: str, address: str = "203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, HTTP_X_FORWARDED_FOR=address)


def test_wrong_passwords_lock_the_sign_in_then_the_right_one_is_refused(owner) -> None:
    client = Client()
    for _ in range(FAILURE_LIMIT):
        assert sign_in(client, "owner", "wrong-guess").status_code in (200, 429)

    locked = sign_in(client, "owner", PASSWORD)

    assert locked.status_code == 429
    assert b"too many" in locked.content.lower()
    assert client.get("/admin/").status_code == 302  # not signed in
    # Another address is not locked out with the attacker: the merchant still signs in.
    assert sign_in(Client(), "owner", PASSWORD, address="198.51.100.9").status_code == 302


def test_a_few_mistakes_do_not_lock_anyone_out(owner) -> None:
    client = Client()
    for _ in range(FAILURE_LIMIT - 1):
        sign_in(client, "owner", "typo")
    assert sign_in(client, "owner", PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("weak", ["1", "password", "12345678", "owner-1"])
def test_create_merchant_refuses_a_weak_password(weak: str) -> None:
    with pytest.raises(CommandError) as refused:
        call_command("create_merchant", "owner-1", "--password", weak, stdout=io.StringIO())
    assert "password" in str(refused.value).lower()
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="owner-1").exists()
    assert Sale.objects.count() == 0


def test_create_merchant_takes_a_strong_password() -> None:
    out = io.StringIO()
    call_command("create_merchant", "owner-2", "--password", PASSWORD, stdout=out)
    assert "merchant owner-2 created" in out.getvalue()
