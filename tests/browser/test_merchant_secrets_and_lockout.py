"""Two pages of the merchant console, in the browser through nginx: the page that
shows a new API token once (it is kept nowhere, the session included), and the
page a sign-in gets once too many wrong passwords locked it."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from playwright.sync_api import Page, expect

from tests.support.browser import ConsoleWatch, sign_in
from tests.support.product import Product


def test_a_new_api_token_is_shown_once(
    page: Page, fresh_product: Product, console_errors: ConsoleWatch, transactional_db: None, owner: Any
) -> None:
    sign_in(page, fresh_product, owner.username)
    page.goto(f"{fresh_product.url}/admin/sales/merchanttoken/add/")
    page.fill("#id_name", "shop backend")
    page.click("input[name=_save]")

    expect(page.locator(".errornote")).to_contain_text("shown only on this page")
    token = page.locator("code.flux-secret").inner_text()
    assert re.fullmatch(r"fg_[A-Za-z0-9_-]{20,}", token), token
    answer = page.request.get(
        f"{fresh_product.url}/api/v1/sales", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status == 200

    page.get_by_role("link", name="Done, I copied it").click()
    expect(page.locator("#result_list")).to_contain_text("shop backend")
    assert token not in page.content()


def test_too_many_wrong_passwords_lock_the_sign_in(
    site: Page, product: Product, console_errors: ConsoleWatch, owner: Any
) -> None:
    console_errors.allow("status of 429")  # the browser logs the locked page's own 429
    for _ in range(settings.AXES_FAILURE_LIMIT):
        site.goto(f"{product.url}/admin/login/")
        site.fill("#id_username", owner.username)
        site.fill("#id_password", "a-wrong-guess")
        site.click("input[type=submit]")

    site.goto(f"{product.url}/admin/login/")
    site.fill("#id_username", owner.username)
    site.fill("#id_password", "correct-horse-battery-staple")
    site.click("input[type=submit]")

    expect(site.get_by_role("heading", name="Too many failed sign-ins")).to_be_visible()
    site.goto(f"{product.url}/admin/")
    expect(site).to_have_url(re.compile(r"/admin/login/"))
