"""A merchant signs in at the one address (nginx), with CSRF on.

This once failed in every browser: the proxy dropped the port from Host, so
Django's origin check saw http://127.0.0.1 against the browser's
http://127.0.0.1:8000 and refused the form with 403. A foreign origin must
still be refused.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.support.browser import sign_in
from tests.support.product import Product


def test_a_merchant_signs_in_through_the_proxy(site: Page, product: Product, owner: Any) -> None:
    sign_in(site, product, owner.username)
    expect(site.locator("#user-tools")).to_contain_text(owner.username)
    expect(site.get_by_role("link", name="Sales", exact=True).first).to_be_visible()


def test_a_wrong_password_is_refused_with_the_form_again(site: Page, product: Product, owner: Any) -> None:
    site.goto(f"{product.url}/admin/login/")
    site.fill("#id_username", owner.username)
    site.fill("#id_password", "not-the-password")
    site.click("input[type=submit]")
    expect(site.locator(".errornote")).to_contain_text("correct username and password")
    assert re.search(r"/admin/login/", site.url)


def test_a_post_from_a_foreign_origin_is_refused(site: Page, product: Product, owner: Any) -> None:
    """The same form, posted with the right cookie and token but from another site's
    page, is refused: the origin check still works, it only knows the port now."""
    site.goto(f"{product.url}/admin/login/")
    token = site.input_value("input[name=csrfmiddlewaretoken]")
    form = {"csrfmiddlewaretoken": token, "username": owner.username, "password": "x", "next": "/admin/"}
    own = site.request.post(
        f"{product.url}/admin/login/", form=form, headers={"Origin": product.url}, max_redirects=0
    )
    assert own.status == 200, own.text()  # the form again (wrong password), not a CSRF refusal
    foreign = site.request.post(
        f"{product.url}/admin/login/",
        form=form,
        headers={"Origin": "http://evil.example"},
        max_redirects=0,
    )
    assert foreign.status == 403
    assert "CSRF" in foreign.text()
