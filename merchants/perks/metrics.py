"""Prometheus metrics of decisions, read from the database at scrape time (served by
``/metrics``).

``open_sesame_decisions_total{outcome}``: every eligibility decision ever made, by
outcome: ``waived`` (the whole deposit), ``partial`` (part of it) and ``refused``.
Decisions are never deleted, so it only grows, and Prometheus' ``rate()`` gives
decisions per second by outcome whichever process answers the scrape. It counts the
table (a sequential scan): at tens of millions of decisions, keep a counter table
instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Case, Count, Q, Value, When
from prometheus_client.core import CounterMetricFamily

from common.metrics import PREFIX, DatabaseCollector
from merchants.perks.models import Decision

OUTCOMES = ("waived", "partial", "refused")


def decisions_by_outcome() -> dict[str, int]:
    rows = (
        Decision.objects.annotate(
            outcome=Case(
                When(eligible=False, then=Value("refused")),
                When(Q(held_amount=0), then=Value("waived")),
                default=Value("partial"),
            )
        )
        .values("outcome")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = dict.fromkeys(OUTCOMES, 0)
    counts.update({row["outcome"]: row["n"] for row in rows})
    return counts


class DecisionCollector(DatabaseCollector):
    def read(self) -> Iterable[Any]:
        family = CounterMetricFamily(
            f"{PREFIX}_decisions",
            "Eligibility decisions made, by outcome (waived, partial, refused).",
            labels=["outcome"],
        )
        for outcome, count in decisions_by_outcome().items():
            family.add_metric([outcome], count)
        yield family
