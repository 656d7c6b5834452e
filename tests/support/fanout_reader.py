"""A destination's writer thread for tests: takes everything from its fanout queue into memory."""

from __future__ import annotations

import threading

from vistter.actors.fanout.table import FanoutTable


class FanoutReader:
    """Attaches ``destination_id`` to ``table`` and reads its queue on a daemon thread until
    :meth:`close`, which returns every byte received."""

    def __init__(self, table: FanoutTable, destination_id: str = "platform") -> None:
        self.queue = table.attach(destination_id)
        self.received = bytearray()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="test-destination", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            part = self.queue.get(0.05)
            if part is not None:
                with self.lock:
                    self.received += part

    def size(self) -> int:
        with self.lock:
            return len(self.received)

    def close(self) -> bytes:
        self.stop.set()
        self.thread.join(5)
        return bytes(self.received)
