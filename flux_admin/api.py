"""The one NinjaAPI of the project: it only mounts each app's router."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(
    title="Flux-Gate",
    version="1",
    description="Flash-sale engine: merchant sales API and the buy API.",
    urls_namespace="api",
)
