"""Small JPEG thumbnails of assets, made once and kept on disk for the asset page.

A thumbnail is :data:`THUMBNAIL_WIDTH` pixels wide with the asset's proportions (at most
:data:`MAX_HEIGHT` high). A still image is scaled with Pillow (transparency over a dark
grey, the first frame of an animation); a video gives the frame one second in (or a tenth
of the way in, for a short one), taken by ffmpeg (the configured one, else ``VISTTER_FFMPEG``,
else the bundled binary, see :func:`vistter.media.ffmpeg.find_ffmpeg`) within
:data:`THUMBNAIL_TIMEOUT` seconds. Audio has no picture: :class:`AssetThumbnailError` (409).

The cache is a folder next to the assets folder, never inside it (what is in the assets
folder is what was uploaded). Files are named by the asset's content hash, written to a
temporary name and renamed into place, so two requests at once both get a whole file and a
file never goes stale. Deleting the folder is safe: thumbnails are made again when asked.

Runs in the calling thread (an API worker, never the event loop): at most
:data:`MAX_PARALLEL` thumbnails are made at once; a request that waits longer than the
timeout for its turn gets :class:`AssetThumbnailError` and may retry.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from pathlib import Path

from PIL import Image, ImageOps

from vistter.store.errors import AssetThumbnailError
from vistter.supervisors.child_env import child_environment

__all__ = ["MAX_HEIGHT", "MAX_PARALLEL", "THUMBNAIL_TIMEOUT", "THUMBNAIL_WIDTH", "Thumbnailer"]

THUMBNAIL_WIDTH = 160
MAX_HEIGHT = 480
THUMBNAIL_TIMEOUT = 20.0
MAX_PARALLEL = 2
_BACKGROUND = (24, 24, 24)
_JPEG_QUALITY = 80


class Thumbnailer:
    """Make and keep thumbnails in ``folder`` (created when the first one is made).

    ``ffmpeg`` is the binary for video frames (``None``: found when first needed).
    """

    def __init__(
        self, folder: Path, *, ffmpeg: str | None = None, width: int = THUMBNAIL_WIDTH,
        timeout: float = THUMBNAIL_TIMEOUT,
    ) -> None:  # fmt: skip
        if width < 16 or timeout <= 0:
            raise ValueError("a thumbnail is at least 16 px wide and takes a positive timeout")
        self.folder = folder
        self._ffmpeg = ffmpeg
        self._width = width
        self._timeout = timeout
        self._turns = threading.BoundedSemaphore(MAX_PARALLEL)

    def path_for(self, checksum: str) -> Path:
        """Where the thumbnail of the content with this SHA-256 is (or will be) kept."""
        return self.folder / f"{checksum}-{self._width}.jpg"

    def thumbnail(self, source: Path, kind: str, checksum: str, label: str) -> Path:
        """The thumbnail of the asset file ``source`` (``kind`` image, video or audio;
        ``label`` names it in errors), made now unless it is already kept.

        Raises :class:`AssetThumbnailError` for audio, a picture that does not decode, an
        ffmpeg that takes too long or cannot run, or a cache folder that cannot be written.
        """
        if kind not in ("image", "video"):
            raise AssetThumbnailError(
                f"the asset '{label}' is {kind}: it has no picture to make a thumbnail of.",
                hint="Show a sound icon for it instead; the asset itself is fine.",
            )
        target = self.path_for(checksum)
        if target.is_file():
            return target
        if not self._turns.acquire(timeout=self._timeout):
            raise AssetThumbnailError(
                f"the appliance is busy making other thumbnails; the one of '{label}' "
                "was not started.",
                hint="Retry in a few seconds.",
            )
        try:
            if not target.is_file():  # made by another request while this one waited
                self._make(source, kind, target, label)
        finally:
            self._turns.release()
        return target

    def discard(self, checksum: str) -> None:
        """Forget the thumbnail of this content (its asset was deleted)."""
        self.path_for(checksum).unlink(missing_ok=True)

    # -- making one ------------------------------------------------------------------------

    def _make(self, source: Path, kind: str, target: Path, label: str) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".thumb-", suffix=".jpg", dir=self.folder)
            os.close(handle)
        except OSError as error:
            raise AssetThumbnailError(
                f"thumbnails cannot be kept: the folder next to the assets folder is not "
                f"writable ({error.strerror or error}).",
                hint="Check the permissions of the folder that holds the assets folder.",
            ) from None
        part = Path(temporary)
        try:
            if kind == "image":
                self._from_image(source, part, label)
            else:
                self._from_video(source, part, label)
            os.replace(part, target)
        finally:
            part.unlink(missing_ok=True)

    def _size(self, width: int, height: int) -> tuple[int, int]:
        scaled = max(1, round(height * self._width / max(1, width)))
        return self._width, min(scaled, MAX_HEIGHT)

    def _from_image(self, source: Path, part: Path, label: str) -> None:
        try:
            with Image.open(source) as opened:
                opened.seek(0)
                image = ImageOps.exif_transpose(opened.convert("RGBA"))
                background = Image.new("RGBA", image.size, (*_BACKGROUND, 255))
                picture = Image.alpha_composite(background, image).convert("RGB")
                size = self._size(*picture.size)  # a very tall picture: its middle
                picture = ImageOps.fit(picture, size, Image.Resampling.LANCZOS)
                picture.save(part, "JPEG", quality=_JPEG_QUALITY)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
            raise AssetThumbnailError(
                f"the picture of '{label}' cannot be read: {error or type(error).__name__}.",
                hint="Upload the image again; the stored file may be damaged.",
            ) from None

    def _from_video(self, source: Path, part: Path, label: str) -> None:
        ffmpeg = self._ffmpeg_path()
        for seek in ("1", "0"):  # one second in; a clip shorter than that: its first frame
            command = [
                ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-ss", seek,
                "-i", str(source), "-frames:v", "1", "-an", "-sn",
                "-vf", f"scale={self._width}:-2,crop={self._width}:'min(ih,{MAX_HEIGHT})'",
                "-q:v", "4", "-f", "image2", "-y", str(part),
            ]  # fmt: skip
            try:
                done = subprocess.run(command, capture_output=True, timeout=self._timeout,
                                      stdin=subprocess.DEVNULL, env=child_environment(),
                                      check=False)  # fmt: skip
            except subprocess.TimeoutExpired:  # run() has killed it
                raise AssetThumbnailError(
                    f"taking a picture from '{label}' took longer than {self._timeout:g} s.",
                    hint="Retry when the appliance is less busy; a very large video may need "
                    "to be re-encoded smaller.",
                ) from None
            except OSError as error:
                raise AssetThumbnailError(
                    f"ffmpeg ({ffmpeg}) cannot run to take a picture from '{label}': "
                    f"{error.strerror or error}.",
                    hint="Fix the ffmpeg path in the configuration (or VISTTER_FFMPEG).",
                ) from None
            if done.returncode == 0 and part.stat().st_size > 0:
                return
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AssetThumbnailError(
            f"ffmpeg could not take a picture from '{label}'"
            + (f": {reason[-1][:200]}." if reason else "."),
            hint="Upload the video again; the stored file may be damaged.",
        )

    def _ffmpeg_path(self) -> str:
        if self._ffmpeg is None:
            from vistter.media.ffmpeg import FfmpegNotFoundError, find_ffmpeg  # noqa: PLC0415

            try:
                self._ffmpeg = find_ffmpeg().path
            except FfmpegNotFoundError as error:
                raise AssetThumbnailError(error.problem, hint=error.hint) from None
        return self._ffmpeg
