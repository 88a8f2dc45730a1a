"""Who is calling the merchant API: a bearer token, or a signed-in session."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from sales.models import MerchantToken

LAST_USED_GRANULARITY = timedelta(minutes=1)


class MerchantTokenAuth(HttpBearer):
    """`Authorization: Bearer fg_...`: the token's SHA-256 is looked up."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = MerchantToken.find(token)
        if found is None or not found.merchant.is_active:
            return None
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > LAST_USED_GRANULARITY:
            MerchantToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.merchant
        return found.merchant


class DemoModeAuth:
    """With FLUX_DEMO_MODE on (never in production), anonymous calls act as the
    demo merchant, so the seed's scripts run unchanged."""

    def __call__(self, request: HttpRequest) -> Any:
        if not settings.FLUX_DEMO_MODE:
            return None
        merchant = (
            get_user_model().objects.filter(username=settings.FLUX_DEMO_MERCHANT, is_active=True).first()
        )
        if merchant is not None:
            request.user = merchant
        return merchant


class MerchantSessionAuth(SessionAuth):
    """A merchant signed in to the admin (the session cookie), CSRF-checked.

    ninja's SessionAuth checks CSRF before it knows whether the session holds a
    user, so an anonymous caller got 403 "CSRF check Failed" over real HTTP and
    the auth methods after it (demo mode) never ran. CSRF protects what a
    cookie grants: without an authenticated session user there is nothing to
    protect, so this one steps aside (401, or the next auth method) and checks
    CSRF only for a real session user."""

    def __call__(self, request: HttpRequest) -> Any:
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)  # CSRF check, then the session's user


merchant_auth = [MerchantTokenAuth(), MerchantSessionAuth()]
