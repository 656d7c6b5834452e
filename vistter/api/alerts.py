"""Monitoring routes: alerts, and the Prometheus scrape endpoint.

* ``GET  /api/alerts`` -- active alerts and the kept history, newest first
  (``?state=all|active|history&limit=50&offset=0``), with counts;
* ``POST /api/alerts/{alert_id}/ack`` -- acknowledge one alert (404 for an unknown id);
* ``POST /api/alerts/ack-all`` -- acknowledge every alert not acknowledged yet, optionally
  only those of one ``severity`` or ``source`` (``{"severity": "warning"}``);
* ``GET  /metrics`` -- every metric in the Prometheus text format (``STREAM_METRICS``, the
  stream's health, system gauges, supervision restarts).

The alert service and the metrics are thread-safe and never block on I/O, so the endpoints
call them from the event loop thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, cast

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vistter.alerts import Alert, AlertService, Listing, Severity
from vistter.alerts.payloads import AlertPayload
from vistter.api.contract import ModelBody, Operation, Parameter, Reply
from vistter.api.errors import NO_STORE, BadRequestError
from vistter.telemetry.prometheus import CONTENT_TYPE

__all__ = ["AckAllRequest", "AlertList", "AlertReply", "MonitoringDeps", "monitoring_operations"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_ALERT_ID = 2**63 - 1


@dataclass(frozen=True)
class MonitoringDeps:
    """The alert service, and ``prometheus_text`` (``Metrics.prometheus_text``)."""

    alerts: AlertService | None
    prometheus_text: Callable[[], str] | None


class AlertReply(BaseModel):
    """One alert: what happened, what to do, and where it stands."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(description="What just happened to it; ``listed`` in a listing.")
    id: int
    key: str = Field(description="The condition: source/kind[/subject]; one alert per key.")
    severity: Severity
    kind: str
    source: str = Field(description="camera-2, destination-youtube, encoder, disk, cpu...")
    message: str
    remediation: str = Field(description="What to do about it.")
    hint: str = Field(description="The same as remediation (older readers).")
    raised_at: float = Field(description="Unix seconds.")
    updated_at: float
    cleared_at: float | None = Field(description="When the condition ended; null: active.")
    active: bool
    acknowledged: bool
    acknowledged_at: float | None
    repeats: int = Field(description="Reports of the same condition while it was active.")
    resolution: str = Field(description="What ended it.")
    details: dict[str, Any]


class AlertCounts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: int
    critical: int
    warning: int
    info: int
    unacknowledged: int


class AlertList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alerts: list[AlertReply]
    total: int = Field(description="Alerts in this state in all (the page is a slice).")
    limit: int
    offset: int
    counts: AlertCounts


class AckReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alert: AlertReply


class AckAllReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    acknowledged: int
    alerts: list[AlertReply]


class AckAllRequest(BaseModel):
    """Which alerts to acknowledge: all (empty body), or one severity, or one source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: Severity | None = None
    source: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None


def _payload(alert: Alert, event: str = "listed") -> AlertPayload:
    return alert.to_payload(event)


def _query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    digits = raw.strip()
    if digits.isascii() and digits.isdigit() and low <= int(digits) <= high:
        return int(digits)
    raise BadRequestError(
        f"{name} {raw[:40]!r} is not a whole number from {low} to {high}.",
        hint=f"Use e.g. ?{name}={default}, or leave it out.",
    )


class _Routes:
    """The endpoints (event loop thread). The alert service answers from memory."""

    def __init__(self, deps: MonitoringDeps) -> None:
        self._deps = deps

    def _service(self) -> AlertService:
        if self._deps.alerts is None:
            raise BadRequestError("Alerts are not available here.",
                                  hint="Use the appliance's control API.")  # fmt: skip
        return self._deps.alerts

    async def list_alerts(self, request: Request) -> JSONResponse:
        service = self._service()
        state = request.query_params.get("state", "all")
        if state not in ("all", "active", "history"):
            raise BadRequestError(f"state {state[:40]!r} is not all, active or history.",
                                  hint="Use ?state=active for what needs attention now.")
        limit = _query_int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = _query_int(request, "offset", 0, 0, 1_000_000)
        alerts, total = service.listing(cast(Listing, state), limit=limit, offset=offset)
        body = {"alerts": [_payload(a) for a in alerts], "total": total, "limit": limit,
                "offset": offset, "counts": service.counts()}  # fmt: skip
        return JSONResponse(body, headers=NO_STORE)

    async def acknowledge(self, request: Request) -> JSONResponse:
        service = self._service()
        alert_id = int(request.path_params["alert_id"])
        alert = service.acknowledge(min(alert_id, MAX_ALERT_ID))
        return JSONResponse({"alert": _payload(alert, "acknowledged")}, headers=NO_STORE)

    async def acknowledge_all(self, request: Request, body: AckAllRequest) -> JSONResponse:
        service = self._service()
        done = service.acknowledge_all(severity=body.severity, source=body.source)
        return JSONResponse(
            {"acknowledged": len(done), "alerts": [_payload(a, "acknowledged") for a in done]},
            headers=NO_STORE,
        )

    async def metrics(self, request: Request) -> Response:
        if self._deps.prometheus_text is None:
            raise BadRequestError("Metrics are not available here.",
                                  hint="Use the appliance's control API.")  # fmt: skip
        return Response(self._deps.prometheus_text(), media_type=CONTENT_TYPE, headers=NO_STORE)


_NOT_HERE = {400: "This app has no appliance behind it (a bare API)."}
_STATE = Parameter("state", "query", {"type": "string", "enum": ["all", "active", "history"]},
                   "Which alerts: all (active first), active, or history (cleared).",
                   required=False)  # fmt: skip
_LIMIT = Parameter("limit", "query", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                   f"How many (default {DEFAULT_LIMIT}).", required=False)
_OFFSET = Parameter("offset", "query", {"type": "integer", "minimum": 0, "maximum": 1_000_000},
                    "How many to skip (default 0).", required=False)
_ALERT_ID = Parameter("alert_id", "path", {"type": "integer", "minimum": 0,
                                           "maximum": MAX_ALERT_ID}, "The alert's id.")


def monitoring_operations(deps: MonitoringDeps | None) -> list[Operation]:
    """The alert and metrics operations, or none when the app has nothing to monitor."""
    if deps is None:
        return []
    r = _Routes(deps)
    return [
        Operation("GET", "/api/alerts", r.list_alerts,
                  "Active alerts and the kept history, newest first.",
                  {200: Reply("A page of alerts and the counts.", AlertList)},
                  parameters=[_STATE, _LIMIT, _OFFSET], errors=_NOT_HERE, tag="appliance"),
        Operation("POST", "/api/alerts/ack-all", r.acknowledge_all,
                  "Acknowledge every alert not acknowledged yet (or one severity or source).",
                  {200: Reply("The alerts acknowledged now.", AckAllReply)},
                  body=ModelBody(AckAllRequest, "ack-all takes an optional severity or source.",
                                 'Send no body, or {"severity": "warning"} or '
                                 '{"source": "camera-2"}.', optional=True),
                  errors=_NOT_HERE, tag="appliance"),
        Operation("POST", "/api/alerts/{alert_id:int}/ack", r.acknowledge,
                  "Acknowledge one alert.", {200: Reply("The alert, acknowledged.", AckReply)},
                  parameters=[_ALERT_ID],
                  errors={404: "There is no alert with this id (or it left the history).",
                          **_NOT_HERE}, tag="appliance"),
        Operation("GET", "/metrics", r.metrics,
                  "Every metric in the Prometheus text format (STREAM_METRICS, health...).",
                  {200: Reply("Prometheus text format 0.0.4.", None, media_type="text/plain")},
                  errors=_NOT_HERE, tag="appliance"),
    ]
