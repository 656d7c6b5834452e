"""CPU seconds and memory of a whole process tree, measured from outside it.

**CPU** is read exactly at two instants, not sampled. On Linux a process's ``/proc`` times
hold its own user+system time (all its threads) plus, as ``children_user`` /
``children_system``, the times of every child it has *waited for* (and, recursively, what
those had waited for). So at any instant::

    tree CPU = sum over the root and every live descendant of
               (user + system + children_user + children_system)

counts every CPU second the tree has spent, once: a live process's time is only in its own
fields, and moves into its parent's ``children_*`` when the parent reaps it. Vistter reaps
every ffmpeg it ends (``OwnedProcess.end`` waits), so even a process that died in the window
is counted. The one blind spot is a process reaped *while* a reading walks the tree (its
time can be missed or counted twice); a reading therefore records the PIDs it saw, and
:class:`CpuWindow` says whether the tree changed during the window.

``resource.getrusage(RUSAGE_CHILDREN)`` alone would not do: it only covers children the
*caller* has waited for, so it says nothing until the measured program has exited, and then
covers its whole life (start-up, encoder trial, warm-up, shutdown), not the window. The
benchmark reports it as a cross-check of the lifetime total.

**Memory** cannot be read after the fact, so a daemon thread samples the tree: the sum of
RSS every ``rss_interval`` seconds (shared pages, such as the one ffmpeg binary mapped by five
processes, count once per process: RSS sums overstate), and the sum of PSS (shared pages split
between their users) every ``pss_interval`` seconds. Both report the peak.

Threads: :meth:`TreeMeter.read_cpu` runs in the caller's thread; the memory sampler runs in
its own daemon thread and swallows processes vanishing under it (that is their right).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import psutil

Classifier = Callable[[psutil.Process], str]
"""Names a descendant's role (``ffmpeg encoder`` ...) from its command line."""

_GONE = (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied)


@dataclass(frozen=True)
class CpuReading:
    """The tree's CPU seconds at one instant."""

    at: float
    total: float
    own: dict[int, float]
    """pid -> that process's own user+system seconds (its threads; not its children)."""
    own_system: dict[int, float]
    """pid -> the system (kernel) part of ``own``: pipe and socket copies show up here."""
    roles: dict[int, str]
    reaped: float
    """The root's ``children_user + children_system``: children it has waited for."""
    threads: dict[int, float]
    """The root's threads: native thread id -> user+system seconds."""


@dataclass(frozen=True)
class CpuWindow:
    """CPU spent by the tree between two readings."""

    wall: float
    cpu: float
    by_role: dict[str, float]
    by_role_system: dict[str, float]
    root_threads: dict[int, float]
    tree_changed: bool
    pids_start: tuple[int, ...]
    pids_end: tuple[int, ...]

    @property
    def cores(self) -> float:
        """Average cores busy (1.0 = one core all the time)."""
        return self.cpu / self.wall if self.wall > 0 else 0.0


def cpu_window(start: CpuReading, end: CpuReading, root_role: str) -> CpuWindow:
    """The CPU spent between ``start`` and ``end``, in total and by role.

    A process born in the window counts from zero; one that died in it is in the root's
    ``reaped`` time (when the root was its parent), booked to ``reaped children``.
    """
    by_role: dict[str, float] = {}
    by_role_system: dict[str, float] = {}
    for pid, seconds in end.own.items():
        role = end.roles[pid]
        by_role[role] = by_role.get(role, 0.0) + seconds - start.own.get(pid, 0.0)
        kernel = end.own_system[pid] - start.own_system.get(pid, 0.0)
        by_role_system[role] = by_role_system.get(role, 0.0) + kernel
    reaped = end.reaped - start.reaped
    gone = sum(seconds for pid, seconds in start.own.items() if pid not in end.own)
    if reaped > 0 or gone > 0:
        by_role["reaped children"] = reaped - gone
    threads = {tid: seconds - start.threads.get(tid, 0.0) for tid, seconds in end.threads.items()}
    by_role.setdefault(root_role, 0.0)
    return CpuWindow(
        wall=end.at - start.at,
        cpu=end.total - start.total,
        by_role=by_role,
        by_role_system=by_role_system,
        root_threads=threads,
        tree_changed=set(start.own) != set(end.own),
        pids_start=tuple(sorted(start.own)),
        pids_end=tuple(sorted(end.own)),
    )


@dataclass
class MemoryPeaks:
    """Peaks seen by the sampler (bytes)."""

    rss_sum: int = 0
    pss_sum: int = 0
    root_rss: int = 0
    rss_by_role_at_peak: dict[str, int] = field(default_factory=dict)
    samples: int = 0


class TreeMeter:
    """Measures the tree rooted at ``root`` (the root is labelled ``root_role``)."""

    def __init__(self, root: psutil.Process, root_role: str, classify: Classifier) -> None:
        self.root = root
        self.root_role = root_role
        self._classify = classify
        self._roles: dict[int, str] = {root.pid: root_role}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._peaks = MemoryPeaks()

    # -- CPU (caller's thread) ---------------------------------------------------------

    def tree(self) -> list[psutil.Process]:
        """The root and its live descendants (the root first)."""
        try:
            return [self.root, *self.root.children(recursive=True)]
        except _GONE:
            return []

    def role(self, process: psutil.Process) -> str:
        role = self._roles.get(process.pid)
        if role is None:
            try:
                role = self._classify(process)
            except _GONE:
                role = "gone"
            self._roles[process.pid] = role
        return role

    def read_cpu(self) -> CpuReading:
        """The tree's CPU seconds now (see the module docstring for why this is exact)."""
        total = 0.0
        own: dict[int, float] = {}
        own_system: dict[int, float] = {}
        roles: dict[int, str] = {}
        reaped = 0.0
        threads: dict[int, float] = {}
        for process in self.tree():
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    if process.pid == self.root.pid:
                        threads = {t.id: t.user_time + t.system_time for t in process.threads()}
            except _GONE:
                continue
            mine = times.user + times.system
            waited = times.children_user + times.children_system
            total += mine + waited
            own[process.pid] = mine
            own_system[process.pid] = times.system
            roles[process.pid] = self.role(process)
            if process.pid == self.root.pid:
                reaped = waited
        return CpuReading(time.monotonic(), total, own, own_system, roles, reaped, threads)

    # -- memory (sampler thread) -------------------------------------------------------

    def start_memory_sampling(self, rss_interval: float = 0.2, pss_interval: float = 2.0) -> None:
        """Start the sampler thread (daemon, ``bench-memory-sampler``); peaks start at 0."""
        self._peaks = MemoryPeaks()
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._sample,
            args=(rss_interval, pss_interval),
            name="bench-memory-sampler",
            daemon=True,
        )
        self._thread.start()

    def stop_memory_sampling(self) -> MemoryPeaks:
        """Stop the sampler (after one last sample) and return the peaks."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10.0)
        with self._lock:
            return self._peaks

    def _sample(self, rss_interval: float, pss_interval: float) -> None:
        next_pss = 0.0
        while True:
            now = time.monotonic()
            processes = self.tree()
            self._note_rss(processes)
            if now >= next_pss:
                self._note_pss(processes)
                next_pss = now + pss_interval
            if self._stop.wait(rss_interval):
                self._note_rss(self.tree())
                return

    def _note_rss(self, processes: Iterable[psutil.Process]) -> None:
        by_role: dict[str, int] = {}
        total = 0
        root_rss = 0
        for process in processes:
            with contextlib.suppress(*_GONE):
                rss = int(process.memory_info().rss)
                role = self.role(process)
                by_role[role] = by_role.get(role, 0) + rss
                total += rss
                if process.pid == self.root.pid:
                    root_rss = rss
        with self._lock:
            peaks = self._peaks
            peaks.samples += 1
            peaks.root_rss = max(peaks.root_rss, root_rss)
            if total > peaks.rss_sum:
                peaks.rss_sum = total
                peaks.rss_by_role_at_peak = by_role

    def _note_pss(self, processes: Iterable[psutil.Process]) -> None:
        total = 0
        for process in processes:
            with contextlib.suppress(*_GONE):
                total += int(getattr(process.memory_full_info(), "pss", 0))
        with self._lock:
            self._peaks.pss_sum = max(self._peaks.pss_sum, total)
