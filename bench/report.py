"""The table on stdout and ``bench/results/latest.json``: the same figures, side by side.

A row with errors is flagged and explained under the table; its throughput counts OK
calls only, so failing calls can never pass for speed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from bench.load import Measurement

RESULTS_DIR: Final = Path(__file__).resolve().parent / "results"
HEADERS: Final = (
    "store",
    "row",
    "throughput/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "ratio",
    "server us/call",
    "main busy",
)
RIGHT_ALIGNED: Final = frozenset(range(2, len(HEADERS)))


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the table: a measurement (or why there is none) and its ratio."""

    store: str
    row: str
    workers: int
    measurement: Measurement | None
    ratio: float | None = None
    ratio_basis: str = ""
    failure: str | None = None


def _number(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def cells(entry: Entry) -> tuple[str, ...]:
    found = entry.measurement
    if found is None:
        return (entry.store, entry.row, "FAILED", "-", "-", "-", "-", "-", "-")
    errors = f"{found.errors} !" if found.errors else "0"
    return (
        entry.store,
        entry.row,
        _number(found.throughput, 1),
        _number(found.p50_ms, 2),
        _number(found.p99_ms, 2),
        errors,
        _number(entry.ratio, 2),
        _number(found.server_us_per_call, 0),
        "-" if found.server_main_busy is None else f"{found.server_main_busy:.0%}",
    )


def table(entries: Sequence[Entry]) -> str:
    """A plain-text table that reads the same in a terminal, a log and a pull request."""
    if not entries:
        return "(no row was measured)"
    rows = [HEADERS, *(cells(entry) for entry in entries)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADERS))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            text.rjust(width) if column in RIGHT_ALIGNED else text.ljust(width)
            for column, (text, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(HEADERS), rule, *(line(row) for row in rows[1:])])


def notes(entries: Sequence[Entry]) -> list[str]:
    """Why each row with errors is flagged, and what the ratio column means.

    FAILED rows are explained by the run's failure lines, printed after these.
    """
    lines = [
        "ratio: throughput / Health/Check on the same store and run; "
        "'workers 2/1' rows: throughput under --workers 2 / the same row under --workers 1; "
        "'slow gateway' row: total wall time of the burst / the latency injected per call "
        "(the median of its bursts)",
        "server us/call: the server's CPU (all its threads) per OK call over the window; "
        "main busy: the share of the window its main thread (the event loop) was on a CPU, "
        "near 100% when that thread is what limits the row",
    ]
    for entry in entries:
        found = entry.measurement
        if found is not None and found.rounds_seconds:
            walls = ", ".join(f"{seconds * 1000:.0f} ms" for seconds in found.rounds_seconds)
            lines.append(f"{entry.store} {entry.row}: bursts took {walls}")
    lines += sorted(
        {
            f"{entry.row}: ratio to {entry.ratio_basis}"
            for entry in entries
            if entry.ratio_basis and entry.row.startswith("relay ")
        }
    )
    for entry in entries:
        if entry.measurement is not None and entry.measurement.errors:
            found = entry.measurement
            codes = ", ".join(
                f"{code} x{count}: {found.error_samples.get(code, '')}"
                for code, count in sorted(found.error_codes.items())
            )
            lines.append(f"! {entry.store} {entry.row}: {found.errors} errors ({codes})")
    return lines


def cpu_model() -> str | None:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in {"model name", "Model", "Hardware"}:
            return value.strip()
    return None


def machine() -> dict[str, Any]:
    """The facts a reader needs before comparing figures from two machines."""
    return {
        "cores": os.cpu_count(),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "grpcio": metadata.version("grpcio"),
        "platform": platform.platform(),
    }


def entry_json(entry: Entry) -> dict[str, Any]:
    found = asdict(entry.measurement) if entry.measurement is not None else {}
    return {
        "store": entry.store,
        "row": entry.row,
        "workers": entry.workers,
        "throughput_per_s": found.get("throughput"),
        "p50_ms": found.get("p50_ms"),
        "p99_ms": found.get("p99_ms"),
        "errors": found.get("errors"),
        "ratio": entry.ratio,
        "ratio_basis": entry.ratio_basis,
        "failure": entry.failure,
        "measurement": found or None,
    }


def write_json(
    entries: Sequence[Entry],
    settings: dict[str, Any],
    skipped: dict[str, str],
    failures: Sequence[str],
    started: dt.datetime,
) -> Path:
    """``latest.json``: every figure of the table plus the machine and run settings."""
    document = {
        "date": started.isoformat(timespec="seconds"),
        "wall_seconds": round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1),
        "machine": machine(),
        "settings": settings,
        "stores_skipped": skipped,
        "failures": list(failures),
        "rows": [entry_json(entry) for entry in entries],
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "latest.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
