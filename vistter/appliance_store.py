"""The appliance's database and what is kept in it: the timeline library, the execution log,
the assets. Opened once by the appliance at start (the caller's thread)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from vistter.models.config import ApplianceConfig
from vistter.store import AssetStore, Database, ExecutionLog, TimelineLibrary

__all__ = ["Store", "open_store"]

logger = logging.getLogger("vistter.appliance")


@dataclass(frozen=True)
class Store:
    """The appliance's database and what is kept in it."""

    db: Database
    timelines: TimelineLibrary
    executions: ExecutionLog
    assets: AssetStore


def open_store(config: ApplianceConfig) -> Store:
    """The database under the data folder; runs left "running" by a crash are closed."""
    data_dir = config.paths.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(data_dir / "vistter.db")
    store = Store(
        db=db,
        timelines=TimelineLibrary(db),
        executions=ExecutionLog(db),
        assets=AssetStore(db, config.paths.assets_dir, config.api.max_upload_bytes,
                          max_inflight_bytes=config.api.max_inflight_upload_bytes),
    )
    recovered = store.executions.recover()
    if recovered:
        logger.warning("closed %d run(s) left open by a crash: %s", len(recovered), recovered)
    return store
