"""Turning the benchmark's JSON result into a table a person reads."""

from __future__ import annotations

import re
from typing import Any

_INCARNATION = re.compile(r"-\d+(?=-|$)")
_URN = re.compile(r"\s*\(urn:uuid:[0-9a-f-]+\)")


def thread_name_group(name: str) -> str:
    """``vistter-mixer-3`` -> ``vistter-mixer``, ``camera:1-4242-reader`` ->
    ``camera:1-reader``, ``ProgramMixer (urn:uuid:...)`` -> ``ProgramMixer``: threads of the
    same kind (incarnations, one per destination) are summed."""
    return _INCARNATION.sub("", _URN.sub("", name))


def thread_breakdown(
    cpu_by_tid: dict[int, float], names: dict[str, str], limit: int = 14
) -> list[tuple[str, float]]:
    """CPU seconds per kind of thread, largest first; threads gone before the end of the
    window (no name known) are ``(ended thread)``."""
    groups: dict[str, float] = {}
    for tid, seconds in cpu_by_tid.items():
        group = thread_name_group(names.get(str(tid), "(ended thread)"))
        groups[group] = groups.get(group, 0.0) + seconds
    ranked = sorted(groups.items(), key=lambda item: item[1], reverse=True)
    head, tail = ranked[:limit], ranked[limit:]
    if tail:
        head.append((f"({len(tail)} other kinds)", sum(seconds for _, seconds in tail)))
    return head


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def format_table(report: dict[str, Any]) -> str:
    """The human-readable report (the JSON line follows it)."""
    setup = report["setup"]
    plain = report.get("plain") or {}
    floor = report.get("floor") or {}
    vistter = report.get("vistter") or {}
    ratio = report["ratio"]
    floor_ratio = report.get("floor_ratio") or {}
    lines = [
        f"Vistter vs plain ffmpeg: {setup['size']}@{setup['fps']} {setup['encoder']} "
        f"{setup['preset']} {setup['mode']} {setup['bitrate_kbps']}k GOP {setup['gop_frames']}, "
        f"lower third, {setup['destinations']} x RTMP on one local nginx",
        f"camera {setup['camera']}; window {setup['window_seconds']:g} s after "
        f"{setup['warmup_seconds']:g} s warm-up; order {', '.join(setup['order'])}; "
        f"{report['machine']['cpus']} x {report['machine']['cpu']}",
        "",
        f"{'':34}{'plain ffmpeg':>14}{'floor':>10}{'Vistter':>10}{'floor/pl':>10}"
        f"{'Vistter/pl':>11}",
    ]

    def row(label: str, key: str, ratio_key: str | None = None, digits: int = 2) -> None:
        r = ratio.get(ratio_key) if ratio_key else None
        f = floor_ratio.get(ratio_key) if ratio_key else None
        lines.append(
            f"{label:34}{_fmt(plain.get(key), digits):>14}{_fmt(floor.get(key), digits):>10}"
            f"{_fmt(vistter.get(key), digits):>10}{_fmt(f, 3):>10}{_fmt(r, 3):>11}"
        )

    row("CPU seconds in window (user+sys)", "cpu_seconds", "cpu")
    row("average cores busy", "cores")
    row("peak RSS, sum over tree (MiB)", "peak_rss_mib", "rss", 1)
    row("peak PSS, sum over tree (MiB)", "peak_pss_mib", "pss", 1)
    row("lifetime CPU s (RUSAGE_CHILDREN)", "lifetime_cpu_seconds")
    row("delivered on every key", "delivered")
    for name, side in (("plain", plain), ("floor", floor), ("vistter", vistter)):
        kbps = ", ".join(f"{k} {v}" for k, v in side.get("kbps_in_window", {}).items())
        if kbps:
            lines.append(f"  {name} kbps accepted by nginx in window: {kbps}")
        for rec in side.get("recordings", []):
            lines.append(
                f"  {name} recording {rec['key']}: {rec['frames']} frames decoded "
                f"({rec['width']}x{rec['height']}) over {rec['span']:.2f} s, missing "
                f"{rec['missing_on_air']} on air + {rec['missing_at_stop']} at the stop, "
                f"largest gap {rec['largest_gap'] * 1000:.0f} ms"
                + (", truncated tail" if rec["truncated"] else "")
            )
        if side.get("tree_changed"):
            lines.append(
                f"  {name} note: a process started or ended during the window "
                "(CPU exact up to the reap race, see tree_meter.py)"
            )
        for problem in side.get("problems", []):
            lines.append(f"  {name} PROBLEM: {problem}")
    for name, side in (("plain ffmpeg", plain), ("floor", floor), ("Vistter", vistter)):
        if not side.get("cpu_by_role"):
            continue
        lines.append("")
        lines.append(f"{name}: CPU seconds in window by process (of which kernel):")
        kernel = side.get("kernel_cpu_by_role", {})
        for role, seconds in sorted(side["cpu_by_role"].items(), key=lambda i: -i[1]):
            lines.append(f"  {role:32}{seconds:8.2f}  ({_fmt(kernel.get(role))})")
    if vistter.get("python_threads_cpu"):
        lines.append("Vistter Python process, CPU seconds in window by thread:")
        for name, seconds in vistter["python_threads_cpu"]:
            lines.append(f"  {name:32}{seconds:8.2f}")
    verdict = "meets" if report["meets_cpu_target"] else "MISSES"
    lines.append("")
    if floor_ratio.get("cpu") is not None:
        lines.append(
            f"floor (Vistter's processes, no Python program bus) / plain = "
            f"{_fmt(floor_ratio['cpu'], 3)}; the program bus costs "
            f"{_fmt(report.get('bus_cpu_seconds'))} CPU s on top of the floor"
        )
    lines.append(
        f"CPU ratio Vistter/plain = {_fmt(ratio['cpu'], 3)}: {verdict} the target "
        f"<= {report['cpu_target']}"
    )
    return "\n".join(lines)
