"""GET /metrics: the live dashboard's figures for Prometheus (and Grafana), in
prometheus_client's exposition format, behind a bearer token (FLUX_METRICS_TOKEN).

Correct across granian's processes, and across hosts, by construction: nothing is
read from the answering process's memory. Counters and the histogram are the
cumulative hashes every web process and buy.lua add to in Redis (the same ones
the ticker reads, dashboard/figures.py); gauges come from the sale's live state and
from the ticker's latest point (persisted orders, drift, anomalies, consumer lag).
The sales exported are the ticker's: open ones, and those ended in the last minute.

    flux_buy_decisions_total{sale_id,outcome}     counter: buy decisions (replay: a key
                                                  answered again; accepted_pending: of the
                                                  accepted, those whose Kafka ack was late)
    flux_buy_duration_seconds{sale_id}            histogram: the buy path, in the web process
    flux_sale_quantity / _sold / _remaining       gauges: units
    flux_sale_status{sale_id,status}              1 for the sale's live status
    flux_sale_rate / _burst / _admission_rate     gauges: the merchant's settings
    flux_queue_waiting{sale_id}                   gauge: shoppers in the waiting room
    flux_queue_admitted_total{sale_id}            counter: admitted from the waiting room
    flux_sale_units_persisted / _drift / _anomalies   gauges: the books (ticker)
    flux_orders_consumer_lag                      gauge: order messages not yet persisted
    flux_metrics_up{server}                       0 when PostgreSQL or Redis did not answer
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from dashboard.figures import reading_many
from dashboard.history import history_last
from infra.errors import ServiceUnavailable
from orders.buy.tally import LATENCY_BUCKETS_MS
from waitingroom.admitter import sales_to_tick

logger = logging.getLogger(__name__)

BUCKET_BOUNDS_S = [f"{bound / 1000:g}" for bound in LATENCY_BUCKETS_MS]
BOOKS = {
    "units_persisted": "Units in orders persisted to PostgreSQL.",
    "drift": "Units sold (Redis) minus units persisted: in flight now, a loss if it never settles.",
    "anomalies": "Orders the consumer refused past the quantity.",
}


def _gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels if labels is not None else ["sale_id"])


class SalesCollector:
    """Reads every exported sale at scrape time: one query, two Redis round trips."""

    def collect(self) -> Iterator[Metric]:
        up = _gauge("flux_metrics_up", "1 when the server answered this scrape.", ["server"])
        try:
            sale_ids = sales_to_tick()
        except DatabaseError as error:
            logger.warning("/metrics: %s", error)
            up.add_metric(["postgresql"], 0)
            yield up
            return
        up.add_metric(["postgresql"], 1)
        try:
            readings = reading_many(sale_ids)
            latest = history_last(sale_ids)
        except ServiceUnavailable as error:
            logger.warning("/metrics: %s", error)
            up.add_metric(["redis"], 0)
            yield up
            return
        up.add_metric(["redis"], 1)
        yield up

        decisions = CounterMetricFamily(
            "flux_buy_decisions", "Buy decisions by outcome.", labels=["sale_id", "outcome"]
        )
        duration = HistogramMetricFamily(
            "flux_buy_duration_seconds", "How long the buy path took, in the web process.", labels=["sale_id"]
        )
        status = _gauge("flux_sale_status", "1 for the sale's live status.", ["sale_id", "status"])
        units = {
            "quantity": _gauge("flux_sale_quantity", "Units the sale offers."),
            "sold": _gauge("flux_sale_sold", "Units sold (reserved in Redis)."),
            "remaining": _gauge("flux_sale_remaining", "Units left."),
            "rate": _gauge("flux_sale_rate", "The buy API's token bucket rate, per second."),
            "burst": _gauge("flux_sale_burst", "The buy API's token bucket size."),
            "admission_rate": _gauge("flux_sale_admission_rate", "Admissions per second from the queue."),
            "waiting": _gauge("flux_queue_waiting", "Shoppers in the waiting room's queue."),
        }
        admitted = CounterMetricFamily(
            "flux_queue_admitted", "Shoppers admitted from the waiting room.", labels=["sale_id"]
        )
        books = {name: _gauge(f"flux_sale_{name}", doc) for name, doc in BOOKS.items()}
        lag = _gauge("flux_orders_consumer_lag", "Order messages on Kafka not yet persisted.", [])
        lag_value = None

        for sale_id, reading in readings.items():
            label = str(sale_id)
            for outcome, n in sorted(reading.counts.items()):
                decisions.add_metric([label, outcome], n)
            cumulative, buckets = 0, []
            for bound, n in zip(BUCKET_BOUNDS_S, reading.latency, strict=False):
                cumulative += n
                buckets.append((bound, cumulative))
            buckets.append(("+Inf", sum(reading.latency)))
            duration.add_metric([label], buckets, sum_value=reading.latency_sum_us / 1_000_000)
            status.add_metric([label, reading.status], 1)
            for name, family in units.items():
                family.add_metric([label], getattr(reading, name))
            admitted.add_metric([label], reading.admitted_total)
            point = latest.get(sale_id, {})
            for name, family in books.items():
                if point.get(name) is not None:
                    family.add_metric([label], point[name])
            if point.get("consumer_lag") is not None:
                lag_value = point["consumer_lag"]
        if lag_value is not None:
            lag.add_metric([], lag_value)
        yield from (decisions, duration, status, *units.values(), admitted, *books.values(), lag)


_registry = CollectorRegistry(auto_describe=False)
_registry.register(SalesCollector())


def _refusal(status: int, code: str, detail: str) -> JsonResponse:
    response = JsonResponse({"status": code, "detail": detail}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.FLUX_METRICS_TOKEN
    if not token:
        return _refusal(403, "forbidden", "/metrics is off: set FLUX_METRICS_TOKEN to turn it on.")
    sent = request.headers.get("Authorization", "")
    scheme, _, credentials = sent.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.encode(), token.encode()):
        return _refusal(401, "unauthorized", "Send Authorization: Bearer <FLUX_METRICS_TOKEN>.")
    return HttpResponse(generate_latest(_registry), content_type=CONTENT_TYPE_LATEST)
