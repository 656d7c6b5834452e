"""What a media file really is, from its first bytes (magic numbers), not from its name.

Supported: PNG, JPEG, GIF and WebP images; MP4 / MOV (ISO base media, ``ftyp``) and MPEG-TS
video; WAV, MP3 and AAC (ADTS) audio, plus M4A (audio in MP4). The declared MIME type of an
upload (what the browser says) and the file name's extension must agree with what the bytes
say; :func:`declared_type` knows the usual aliases (``image/jpg``, ``audio/x-wav`` ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vistter.store.errors import AssetTypeError

__all__ = [
    "HEADER_BYTES",
    "MEDIA_TYPES",
    "AssetKind",
    "MediaType",
    "compatible",
    "declared_type",
    "sniff",
    "supported_list",
]

#: How many leading bytes :func:`sniff` needs (MPEG-TS is recognised by 3 packet syncs).
HEADER_BYTES = 4096

AssetKind = Literal["image", "video", "audio"]


@dataclass(frozen=True, slots=True)
class MediaType:
    """A supported media type: its MIME type, kind, usual name endings and a label."""

    mime: str
    kind: AssetKind
    extensions: tuple[str, ...]
    label: str
    family: str = ""

    @property
    def family_key(self) -> str:
        """Types that share a container (MP4, MOV, M4A) share a family."""
        return self.family or self.mime


PNG = MediaType("image/png", "image", (".png",), "a PNG image")
JPEG = MediaType("image/jpeg", "image", (".jpg", ".jpeg"), "a JPEG image")
GIF = MediaType("image/gif", "image", (".gif",), "a GIF image")
WEBP = MediaType("image/webp", "image", (".webp",), "a WebP image")
MP4 = MediaType("video/mp4", "video", (".mp4", ".m4v"), "an MP4 video", "isobmff")
MOV = MediaType("video/quicktime", "video", (".mov",), "a QuickTime (MOV) video", "isobmff")
M4A = MediaType("audio/mp4", "audio", (".m4a",), "an MPEG-4 audio file", "isobmff")
MPEG_TS = MediaType("video/mp2t", "video", (".ts", ".mts"), "an MPEG-TS video")
WAV = MediaType("audio/wav", "audio", (".wav",), "a WAV audio file")
MP3 = MediaType("audio/mpeg", "audio", (".mp3",), "an MP3 audio file")
AAC = MediaType("audio/aac", "audio", (".aac",), "an AAC (ADTS) audio file")

MEDIA_TYPES: tuple[MediaType, ...] = (PNG, JPEG, GIF, WEBP, MP4, MOV, M4A, MPEG_TS, WAV, MP3, AAC)

_BY_MIME = {media.mime: media for media in MEDIA_TYPES}
_ALIASES = {
    "image/jpg": JPEG, "image/pjpeg": JPEG, "image/x-png": PNG,
    "video/x-m4v": MP4, "video/mpeg4": MP4, "video/x-quicktime": MOV,
    "audio/x-m4a": M4A, "audio/m4a": M4A,
    "video/mpeg2-ts": MPEG_TS, "video/vnd.dlna.mpeg-tts": MPEG_TS, "video/x-mpegts": MPEG_TS,
    "audio/x-wav": WAV, "audio/wave": WAV, "audio/vnd.wave": WAV,
    "audio/mp3": MP3, "audio/x-mp3": MP3, "audio/mpeg3": MP3, "audio/x-mpeg": MP3,
    "audio/x-aac": AAC, "audio/aacp": AAC, "audio/x-hx-aac-adts": AAC,
}  # fmt: skip
#: Declared types that say nothing (browsers send these for unknown file types).
_UNDECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P "})
_TS_PACKET = 188


def declared_type(declared: str | None) -> MediaType | None:
    """The supported type a declared MIME type names, or ``None`` if nothing was declared.

    Raises :class:`AssetTypeError` when it names a type Vistter does not support.
    """
    if declared is None:
        return None
    mime = declared.split(";", 1)[0].strip().lower()
    if mime in _UNDECLARED:
        return None
    found = _BY_MIME.get(mime) or _ALIASES.get(mime)
    if found is None:
        raise AssetTypeError(
            f"files of type {mime[:100]} cannot be used as assets.",
            hint=f"Upload {supported_list()}.",
        )
    return found


def supported_list() -> str:
    """The supported types in words, for hints."""
    return (
        "a PNG, JPEG, GIF or WebP image, an MP4, MOV or MPEG-TS video, "
        "or a WAV, MP3, AAC or M4A audio file"
    )


def compatible(declared: MediaType, actual: MediaType) -> bool:
    """True when a file of type ``actual`` may be declared as ``declared``."""
    return declared.family_key == actual.family_key


def sniff(header: bytes) -> MediaType | None:
    """The media type the first bytes of a file show (give :data:`HEADER_BYTES`), or None."""
    if header.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if header.startswith(b"\xff\xd8\xff"):
        return JPEG
    if header.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if header[:4] == b"RIFF" and header[8:12] == b"WEBP":
        return WEBP
    if header[:4] == b"RIFF" and header[8:12] == b"WAVE":
        return WAV
    if header[4:8] == b"ftyp":
        brand = header[8:12]
        if brand == b"qt  ":
            return MOV
        return M4A if brand in _AUDIO_BRANDS else MP4
    if _is_mpeg_ts(header):
        return MPEG_TS
    if header.startswith(b"ID3"):
        return MP3
    if len(header) >= 2 and header[0] == 0xFF:
        second = header[1]
        if second & 0xF6 == 0xF0:  # 12-bit sync, layer 00: ADTS
            return AAC
        if second & 0xE0 == 0xE0 and (second >> 1) & 0x03 == 0x01:  # sync, layer III
            return MP3
    return None


def _is_mpeg_ts(header: bytes) -> bool:
    syncs = range(0, min(len(header), 4 * _TS_PACKET), _TS_PACKET)
    return len(syncs) >= 2 and all(header[offset] == 0x47 for offset in syncs)
