"""Control API routes for the assets, fit for an asset page.

* ``GET /api/assets`` -- every asset with its kind, size, width and height, duration, the
  stored timelines that use it (``used_by``) and its ``thumbnail_url``;
* ``GET /api/assets/{id}`` -- one of them;
* ``GET /api/assets/{id}/thumbnail.jpg`` -- a small JPEG of it (made once, then kept; 409
  for audio, which has no picture);
* ``POST /api/assets`` -- stream a file in as the raw body (see :mod:`vistter.api.uploads`);
* ``DELETE /api/assets/{id}`` -- 409 naming, by name, the stored timelines that use it.

Every handler runs in the event loop thread and every store call (and thumbnail making,
which may run ffmpeg for a few seconds) in the thread pool.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vistter.api.contract import Operation, Parameter, RawBody, Reply
from vistter.api.errors import NO_STORE
from vistter.api.library_json import asset_json
from vistter.api.record_ids import RECORD_ID, path_id
from vistter.api.replies import AssetList, AssetReply, Deleted
from vistter.api.uploads import UPLOAD_PATH, receive_upload
from vistter.store import AssetNotFoundError, AssetStore

__all__ = ["THUMBNAIL_CACHE", "asset_operations"]

#: Thumbnails never change for an id (an asset's content is fixed): a browser may keep them.
THUMBNAIL_CACHE = "private, max-age=86400"


def _asset_not_found(asset_id: int) -> AssetNotFoundError:
    return AssetNotFoundError(
        f"there is no stored asset {asset_id}.",
        hint="List the assets (GET /api/assets) to see their ids.",
    )


class _AssetRoutes:
    """The endpoints (event loop thread; the store's work in the thread pool). Store errors
    become their ``http_status``; anything else the API's generic 500."""

    def __init__(self, assets: AssetStore) -> None:
        self._assets = assets

    async def list_assets(self, request: Request) -> Response:
        listed = await run_in_threadpool(self._assets.list_with_users)
        body = {"assets": [asset_json(record, users) for record, users in listed]}
        return JSONResponse(body, headers=NO_STORE)

    async def upload_asset(self, request: Request) -> Response:
        record = await receive_upload(request, self._assets)
        users = await run_in_threadpool(self._assets.users, record)  # an identical file's
        headers = {**NO_STORE, "Location": f"{UPLOAD_PATH}/{record.id}"}
        return JSONResponse(asset_json(record, users), status_code=201, headers=headers)

    async def get_asset(self, request: Request) -> Response:
        asset_id = path_id(request, _asset_not_found)
        assets = self._assets

        def read() -> JSONResponse:
            record = assets.get(asset_id)
            return JSONResponse(asset_json(record, assets.users(record)), headers=NO_STORE)

        return await run_in_threadpool(read)

    async def thumbnail(self, request: Request) -> Response:
        asset_id = path_id(request, _asset_not_found)
        assets = self._assets

        def make() -> bytes:
            return assets.thumbnail(asset_id).read_bytes()

        picture = await run_in_threadpool(make)
        return Response(picture, media_type="image/jpeg",
                        headers={"Cache-Control": THUMBNAIL_CACHE})  # fmt: skip

    async def delete_asset(self, request: Request) -> Response:
        asset_id = path_id(request, _asset_not_found)
        await run_in_threadpool(self._assets.delete, asset_id)
        return JSONResponse({"deleted": asset_id}, headers=NO_STORE)


_NAME = Parameter("name", "query", {"type": "string", "minLength": 1},
                  "The file name (or send X-Filename / Content-Disposition).", required=False)
_NO_ASSET = "There is no stored asset with this id."
_CREATED = {"Location": "Where the new record is."}
_BY_ID = {"record_id": "$response.body#/id"}
_ASSET_LINKS = {
    "get": ("get_api_assets_record_id", _BY_ID),
    "delete": ("delete_api_assets_record_id", _BY_ID),
    "thumbnail": ("get_api_assets_record_id_thumbnail_jpg", _BY_ID),
}
_ASSET_KINDS = {
    "application/octet-stream": {"type": "string", "format": "binary"},
    "image/png": {"type": "string", "format": "binary"},
    "image/jpeg": {"type": "string", "format": "binary"},
    "video/mp4": {"type": "string", "format": "binary"},
}


def asset_operations(assets: AssetStore) -> list[Operation]:
    """The asset operations over ``assets``."""
    e = _AssetRoutes(assets)
    return [
        Operation("GET", "/api/assets", e.list_assets,
                  "Every stored asset, with where each is used.",
                  {200: Reply("The assets.", AssetList)}, tag="assets"),
        Operation("POST", UPLOAD_PATH, e.upload_asset,
                  "Upload an asset: the file is the raw body (type checked by its content).",
                  {201: Reply("Stored (or the identical file already stored).", AssetReply,
                              headers=_CREATED, links=_ASSET_LINKS)},
                  body=RawBody(_ASSET_KINDS, "The file's bytes."), parameters=[_NAME],
                  errors={400: "The client went away before the whole file arrived.",
                          409: "Another asset already has this name.",
                          413: "The file is larger than [api] max_upload_bytes.",
                          415: "The content is not an image or video of a known type.",
                          422: "The file name is missing or has a folder part."},
                  tag="assets"),
        Operation("GET", "/api/assets/{record_id:int}", e.get_asset, "One stored asset.",
                  {200: Reply("The asset.", AssetReply)}, parameters=[RECORD_ID],
                  errors={404: _NO_ASSET}, tag="assets"),
        Operation("GET", "/api/assets/{record_id:int}/thumbnail.jpg", e.thumbnail,
                  "A small JPEG of the asset (160 px wide), made once and kept.",
                  {200: Reply("The thumbnail.", None, media_type="image/jpeg",
                              headers={"Cache-Control": "It may be kept a day."})},
                  parameters=[RECORD_ID],
                  errors={404: _NO_ASSET,
                          409: "No thumbnail can be made: the asset is audio, or its picture "
                          "does not decode in time (the problem says which)."},
                  tag="assets"),
        Operation("DELETE", "/api/assets/{record_id:int}", e.delete_asset,
                  "Delete an asset (refused while a stored timeline uses it).",
                  {200: Reply("Deleted.", Deleted)}, parameters=[RECORD_ID],
                  errors={404: _NO_ASSET,
                          409: "Stored timelines use it (named in the problem)."},
                  tag="assets"),
    ]
