"""/api/docs, the merchant API's interactive docs, works on a machine with no
internet (Swagger UI from the project's own static files) and its "Try it out"
works both with the merchant's signed-in session (CSRF token sent) and with a
Bearer token entered under "Authorize"."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.utils import timezone
from playwright.sync_api import Page, expect

from sales.models import MerchantToken, Sale
from tests.factories import make_sale
from tests.support.browser import sign_in
from tests.support.product import Product


def operation(page: Page, method: str, path: str) -> Any:
    """The Swagger UI block of one operation, opened."""
    block = page.locator(f".opblock-{method.lower()}").filter(
        has=page.locator(".opblock-summary-path", has_text=path)
    )
    block = block.filter(has_not=page.locator(".opblock-summary-path", has_text=f"{path}/")).first
    block.locator(".opblock-summary").click()
    return block


def try_it_out(block: Any, body: dict | None = None) -> str:
    """Press Try it out, fill the body, Execute; the HTTP status Swagger UI shows."""
    block.get_by_role("button", name="Try it out").click()
    if body is not None:
        block.locator("textarea.body-param__text").fill(json.dumps(body))
    block.get_by_role("button", name="Execute").click()
    status = block.locator(".live-responses-table tbody .response-col_status").first
    expect(status).to_be_visible()
    return status.inner_text().strip()


def test_the_docs_render_from_own_static_files(site: Page, product: Product) -> None:
    requested: list[str] = []
    site.on("request", lambda request: requested.append(request.url))
    site.goto(f"{product.url}/api/docs")
    expect(site.locator(".swagger-ui .info .title")).to_contain_text("Flux-Gate")
    expect(site.locator(".opblock").first).to_be_visible()
    foreign = [url for url in requested if not url.startswith(product.url) and not url.startswith("data:")]
    assert not foreign, f"the docs page loaded assets from elsewhere: {foreign}"


def test_try_it_out_with_a_signed_in_session(site: Page, product: Product, owner: Any) -> None:
    sign_in(site, product, owner.username)
    site.goto(f"{product.url}/api/docs")
    now = timezone.now()
    body = {
        "product_name": "Docs phone",
        "sku": "docs-phone",
        "unit_price": "10.00",
        "quantity": 3,
        "starts_at": (now + timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=2)).isoformat(),
    }
    assert try_it_out(operation(site, "POST", "/api/v1/sales"), body) == "201"
    assert Sale.objects.filter(merchant=owner, sku="docs-phone").exists()


def test_try_it_out_with_a_bearer_token(site: Page, product: Product, owner: Any) -> None:
    make_sale(owner, sku="bearer-listed")
    _, token = MerchantToken.issue(merchant=owner, name="docs")
    site.goto(f"{product.url}/api/docs")  # not signed in
    site.get_by_role("button", name="Authorize").first.click()
    dialog = site.locator(".modal-ux")
    bearer = dialog.locator("form").filter(has_text="Bearer")
    bearer.locator("input").fill(token)
    bearer.get_by_role("button", name="Apply credentials").click()
    dialog.get_by_role("button", name="Close").first.click()
    block = operation(site, "GET", "/api/v1/sales")
    assert try_it_out(block) == "200"
    expect(block.locator(".live-responses-table")).to_contain_text("bearer-listed")
