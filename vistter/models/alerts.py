"""The ``[alerts]`` section: alert history, thresholds and webhooks.

```toml
[alerts]
history = 500                 # alerts kept (active ones are never dropped)
disk_low_mb = 2048            # free space under the data folder below this: alert
cpu_high_percent = 90         # machine CPU above this ...
cpu_high_for = 60             # ... for this many seconds without a break: alert
webhooks = ["https://ntfy.sh/my-marina"]   # each alert is POSTed there as JSON
webhook_timeout = 5           # seconds per attempt
webhook_retry = { initial = 2, factor = 2, maximum = 60, attempts = 6 }
```

Webhook URLs often carry a secret (a token in the path or the query): they are accepted and
used, never shown, logged or published (see :func:`webhook_label`).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from vistter.models._types import Int, Number, PositiveSeconds, StrictModel
from vistter.models.problems import custom_error
from vistter.supervisors.backoff import Backoff

__all__ = ["AlertsConfig", "WebhookRetry", "webhook_label"]


class WebhookRetry(StrictModel):
    """How a webhook POST that fails is retried: after ``initial``, ``initial*factor``, ...
    seconds (at most ``maximum``), ``attempts`` tries in all."""

    initial: PositiveSeconds = 2
    factor: Annotated[Number, Field(ge=1)] = 2
    maximum: PositiveSeconds = 60
    attempts: Annotated[Int, Field(ge=1, le=100)] = 6

    def backoff(self) -> Backoff:
        """The schedule as a :class:`~vistter.supervisors.backoff.Backoff`."""
        return Backoff(
            initial=float(self.initial),
            factor=float(self.factor),
            maximum=max(float(self.maximum), float(self.initial)),
            reset_after=0.0,
        )


class AlertsConfig(StrictModel):
    """Alert history, the thresholds of the appliance's own checks, and webhooks."""

    history: Annotated[Int, Field(ge=10, le=100_000)] = 500
    disk_low_mb: Annotated[Int, Field(ge=0)] = 2048
    cpu_high_percent: Annotated[Number, Field(gt=0, le=100)] = 90
    cpu_high_for: PositiveSeconds = 60
    webhooks: tuple[str, ...] = Field(default=(), repr=False)
    webhook_timeout: PositiveSeconds = 5
    webhook_retry: WebhookRetry = Field(default_factory=WebhookRetry)

    @field_validator("webhooks")
    @classmethod
    def _http_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            try:
                parts = urlsplit(url)
            except ValueError:
                parts = None
            if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
                raise custom_error(
                    "an alert webhook is not an http(s) URL",
                    "Write each webhook as https://HOST/PATH (e.g. https://ntfy.sh/my-topic).",
                )
        return value


def webhook_label(url: str) -> str:
    """A webhook as logs and status pages may show it: scheme and host only."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "webhook"
    return f"{parts.scheme}://{parts.hostname or '?'}{f':{parts.port}' if parts.port else ''}"
