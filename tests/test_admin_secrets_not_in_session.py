"""A token or storefront secret made in the admin is shown once, on the answer
to the form, and never kept: not in the session (where a message waiting for
the next page sat in plain text in django_session), not in the database."""

from __future__ import annotations

import re

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from sales.models import MerchantToken, StorefrontKey

pytestmark = pytest.mark.django_db


def console(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def session_texts() -> str:
    return " ".join(str(session.get_decoded()) for session in Session.objects.all())


def test_a_new_api_token_is_shown_once_and_kept_nowhere(owner) -> None:
    client = console(owner)
    page = client.post("/admin/sales/merchanttoken/add/", {"name": "ci"})

    assert page.status_code == 200
    raw = re.search(r"fg_[A-Za-z0-9_-]{20,}", page.content.decode())
    assert raw is not None, page.content[:2000]
    assert "no-store" in page["Cache-Control"]  # nor in a browser's or a proxy's cache
    assert MerchantToken.find(raw[0]).name == "ci"
    assert raw[0] not in session_texts()
    assert raw[0] not in client.get("/admin/sales/merchanttoken/").content.decode()
    # It works: the merchant API takes it.
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw[0]}").get("/api/v1/sales").status_code == 200


def test_a_new_storefront_secret_is_shown_once_and_kept_out_of_the_session(owner) -> None:
    client = console(owner)
    page = client.post("/admin/sales/storefrontkey/add/", {"name": "web shop"})

    assert page.status_code == 200
    key = StorefrontKey.objects.get(merchant=owner)
    assert key.key_id in page.content.decode() and key.secret in page.content.decode()
    assert "no-store" in page["Cache-Control"]  # nor in a browser's or a proxy's cache
    assert key.secret not in session_texts()
    assert key.secret not in client.get("/admin/sales/storefrontkey/").content.decode()
