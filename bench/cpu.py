"""The server's CPU over a row's measured window, read from Linux's ``/proc``.

Throughput ratios move with whatever else the machine is doing; what the server spent
per call moves much less, and says where a row's time goes. ``main busy`` is the share
of the window the server's main thread (its event loop, which runs every handler) was
on a CPU: near 100% the row is bound by that one thread, well below it the calls spend
their time waiting (a commit, a gateway) rather than computing.

Where there is no ``/proc`` (not Linux) nothing is read and the figures are left out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

PROC: Final = Path("/proc")
_TICKS_PER_SECOND: Final = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True, slots=True)
class CpuSample:
    """CPU seconds so far: the server's processes together, and its main thread alone
    (``None`` with ``--workers 2``: then the main process only supervises)."""

    processes: float
    main_thread: float | None


@dataclass(frozen=True, slots=True)
class WindowCpu:
    """What the server spent between two samples ``seconds`` apart."""

    cpu_seconds: float
    main_busy: float | None  # the main thread's CPU seconds / the window's seconds


def _stat_fields(stat: Path) -> list[str] | None:
    """A ``/proc/.../stat`` file's fields from the third (state) on; None once gone."""
    try:
        text = stat.read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its end.
    return text[text.rindex(")") + 2 :].split()


def _cpu_seconds(stat: Path) -> float | None:
    """utime + stime of a ``/proc/.../stat`` file (fields 14 and 15)."""
    fields = _stat_fields(stat)
    return None if fields is None else (int(fields[11]) + int(fields[12])) / _TICKS_PER_SECOND


def _children(pid: int) -> list[int]:
    """The processes whose parent (field 4) is ``pid``: the workers of ``--workers N``."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(entry / "stat")
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


class ServerClock:
    """Samples one server's CPU; built before the window, so sampling costs two reads."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._children = _children(pid) if (PROC / str(pid)).is_dir() else []

    def sample(self) -> CpuSample | None:
        own = _cpu_seconds(PROC / str(self._pid) / "stat")
        if own is None:
            return None
        total = own + sum(
            seconds
            for seconds in (_cpu_seconds(PROC / str(child) / "stat") for child in self._children)
            if seconds is not None
        )
        main = (
            None
            if self._children
            else _cpu_seconds(PROC / str(self._pid) / "task" / str(self._pid) / "stat")
        )
        return CpuSample(processes=total, main_thread=main)


def spent(before: CpuSample | None, after: CpuSample | None, seconds: float) -> WindowCpu | None:
    if before is None or after is None or seconds <= 0:
        return None
    main = (
        None
        if before.main_thread is None or after.main_thread is None
        else (after.main_thread - before.main_thread) / seconds
    )
    return WindowCpu(cpu_seconds=after.processes - before.processes, main_busy=main)
