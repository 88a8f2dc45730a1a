"""/api/docs works on a machine without internet: Swagger UI's page loads its
scripts, styles and icons from the project's own static files, never a CDN."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from tests.support.http import WebServer

# The page reads no rows, but web_server runs against the test database, which
# pytest-django creates only when a collected test is marked for it.
pytestmark = pytest.mark.django_db

# Every URL the page makes the browser fetch: <script src>, <link href>.
ASSET_URL = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", re.IGNORECASE)


def test_the_docs_page_uses_only_same_origin_static_files(web_server: WebServer) -> None:
    reply = web_server.request("GET", "/api/docs")
    assert reply.status == 200
    assets = ASSET_URL.findall(reply.text)
    # The Swagger UI bundle, its start-up script and its stylesheet at the least.
    assert any(url.endswith("swagger-ui-bundle.js") for url in assets), assets
    assert any(url.endswith(".css") for url in assets), assets

    for url in assets:
        assert url.startswith(settings.STATIC_URL), f"{url} is not one of the project's static files"
        # What nginx serves from STATIC_ROOT after collectstatic is what the finders find.
        assert finders.find(url.removeprefix(settings.STATIC_URL)), f"{url}: no such static file"
