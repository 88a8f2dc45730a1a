"""The site's front door: `/` is a small page leading to the merchant console
and the API docs (never a debug 404), and the site has an icon."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.test import Client


def test_home_leads_to_sign_in_and_api_docs() -> None:
    page = Client().get("/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "<title>Flux-Gate</title>" in text
    assert '<a href="/admin/">Merchant sign-in</a>' in text
    assert 'href="/api/docs">API docs</a>' in text
    assert Client().get("/api/docs").status_code == 200


def test_favicon_is_a_static_file_and_answers_at_favicon_ico() -> None:
    answer = Client().get("/favicon.ico")
    assert (answer.status_code, answer["Location"]) == (302, "/static/flux/favicon.svg")
    icon = finders.find("flux/favicon.svg")  # the app-directories finder: sales/static/
    assert icon is not None
    with open(icon) as svg:
        assert svg.read().startswith("<svg")
