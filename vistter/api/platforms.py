"""``GET /api/platforms``: the streaming platforms a destination can be added for.

The console's "add destination" form fills the server URL from the platform's preset and
warns before sending when the program's bitrate is more than the platform accepts (the same
check that refuses the destination, :func:`~vistter.models.config.check_destination_bitrate`).
Read from the built-in presets (:mod:`vistter.models.presets`) and ``[encoding]``; the answer
names no secret.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from vistter.api.contract import Operation, Reply
from vistter.api.errors import NO_STORE
from vistter.models.config import ApplianceConfig
from vistter.models.presets import PLATFORM_PRESETS

__all__ = ["PlatformList", "platform_operations"]

_LABELS = {"youtube": "YouTube", "facebook": "Facebook (RTMPS)", "twitch": "Twitch",
           "custom_rtmp": "Custom RTMP server", "srt": "SRT"}  # fmt: skip


class PlatformReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The destination's platform field.")
    label: str
    protocol: Literal["rtmp", "srt"]
    url: str | None = Field(description="The server URL filled in (null: the operator's).")
    secret: Literal["stream_key", "passphrase"]
    secret_required: bool
    max_bitrate_kbps: int | None = Field(description="The most it accepts (null: no limit).")


class PlatformList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platforms: list[PlatformReply]
    program_bitrate_kbps: int = Field(description="What the program is encoded at.")


def platforms_body(config: ApplianceConfig) -> dict[str, object]:
    """The answer of ``GET /api/platforms`` for ``config``."""
    platforms: list[dict[str, object]] = [
        {"id": name, "label": _LABELS.get(name, name), "protocol": "rtmp",
         "url": preset.rtmp_url, "secret": "stream_key",
         "secret_required": preset.key_format == "stream_key",
         "max_bitrate_kbps": preset.max_bitrate}
        for name, preset in PLATFORM_PRESETS.items()
    ]  # fmt: skip
    platforms.append({"id": "srt", "label": _LABELS["srt"], "protocol": "srt", "url": None,
                      "secret": "passphrase", "secret_required": False,
                      "max_bitrate_kbps": None})  # fmt: skip
    return {"platforms": platforms, "program_bitrate_kbps": config.encoding.bitrate_kbps}


def platform_operations(config: ApplianceConfig | None) -> list[Operation]:
    """The platforms operation, or none when the app has no configuration behind it."""
    if config is None:
        return []
    body = platforms_body(config)

    async def platforms(request: Request) -> JSONResponse:
        return JSONResponse(body, headers=NO_STORE)

    return [
        Operation("GET", "/api/platforms", platforms,
                  "Streaming platforms: server URL, secret, bitrate limit; the program bitrate.",
                  {200: Reply("The platforms.", PlatformList)}, tag="destinations"),
    ]
