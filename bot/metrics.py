"""Prometheus metrics of one bot process, in one registry, recorded through small functions.

Each process exposes its own figures on `/metrics`; Prometheus scrapes every replica and sums.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

NAMESPACE = "sechscluster"
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

UPDATES = Counter(
    "updates_processed",
    "Telegram updates processed, by kind (message, callback_query, …) and outcome (ok, failed).",
    ["kind", "outcome"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)
UPDATE_SECONDS = Histogram(
    "update_processing_seconds",
    "Time from taking an update to having committed its effects and answered, by kind.",
    ["kind"],
    namespace=NAMESPACE,
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ENTRIES = Counter(
    "entries_saved",
    "Entries stored on a board.",
    namespace=NAMESPACE,
    registry=REGISTRY,
)
TELEGRAM_ERRORS = Counter(
    "telegram_errors",
    "Bot API calls that failed, by HTTP error code (or network, timeout).",
    ["code"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)
REMINDERS = Counter(
    "reminders_sent",
    "Reminders posted to a group.",
    namespace=NAMESPACE,
    registry=REGISTRY,
)
AUTOPILOT = Counter(
    "autopilot_sends",
    "Messages the autopilot (/pace) posted to a group.",
    namespace=NAMESPACE,
    registry=REGISTRY,
)
WEBHOOK_REFUSED = Counter(
    "webhook_refused",
    "Webhook requests refused, by reason (secret: wrong or missing secret token, too_large, "
    "not_an_update).",
    ["reason"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)


SET_ASIDE = Counter(
    "updates_set_aside",
    "Updates set aside as dead letters, by reason (unparsable, failed three times).",
    ["reason"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)


OUTBOX_DROPPED = Counter(
    "outbox_sends_dropped",
    "Decided sends dropped from the outbox: older than 12 hours when they could go out.",
    namespace=NAMESPACE,
    registry=REGISTRY,
)


def outbox_dropped() -> None:
    OUTBOX_DROPPED.inc()


def update_set_aside(reason: str) -> None:
    SET_ASIDE.labels(reason=reason).inc()


def observe_update(kind: str, seconds: float, *, failed: bool = False) -> None:
    """One update of this kind was processed in `seconds` (failed: it raised and was not done)."""
    UPDATES.labels(kind=kind, outcome="failed" if failed else "ok").inc()
    UPDATE_SECONDS.labels(kind=kind).observe(max(seconds, 0.0))


def entry_saved(count: int = 1) -> None:
    """Entries were stored."""
    ENTRIES.inc(count)


def telegram_error(code: int | str) -> None:
    """A Bot API call failed with this code (e.g. 400, 403, 429, or "network", "timeout")."""
    TELEGRAM_ERRORS.labels(code=str(code)).inc()


def reminder_sent() -> None:
    """A reminder was posted."""
    REMINDERS.inc()


def autopilot_sent() -> None:
    """The autopilot posted a message."""
    AUTOPILOT.inc()


def webhook_refused(reason: str) -> None:
    """A webhook request was refused for this reason."""
    WEBHOOK_REFUSED.labels(reason=reason).inc()


def render() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and the content type to serve them with."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
