"""Alerts: every fault an operator should know, as one alert with what to do about it.

Modules publish reports on the bus topic ``alert`` (:data:`vistter.telemetry.topics.ALERT_TOPIC`);
the :class:`AlertService` routes that topic to itself, keeps one :class:`Alert` per condition
(raised, updated, cleared, acknowledged) in SQLite and publishes each change on ``alert``,
and posts them to the configured webhooks. :class:`AlertRules` derives alerts from events and
metrics (camera down, destination failing, disk low, CPU high). The control API's routes are
in :mod:`vistter.api.alerts`.
"""

from vistter.alerts.model import SEVERITIES, Alert, AlertReport, Severity, parse_report
from vistter.alerts.rules import AlertRules, encoder_report
from vistter.alerts.service import AlertNotFoundError, AlertService, Listing
from vistter.alerts.store import AlertStore
from vistter.alerts.webhooks import WebhookSender, post_json

__all__ = [
    "SEVERITIES",
    "Alert",
    "AlertNotFoundError",
    "AlertReport",
    "AlertRules",
    "AlertService",
    "AlertStore",
    "Listing",
    "Severity",
    "WebhookSender",
    "encoder_report",
    "parse_report",
    "post_json",
]
