"""bench.cpu reads what a server spent from /proc: parsing, and a real process's figures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.cpu import CpuSample, ServerClock, _cpu_seconds, spent

TICKS = os.sysconf("SC_CLK_TCK")


def test_a_command_name_with_spaces_and_parentheses_is_skipped_whole(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    # pid (comm) state ppid ... utime (14th field) stime (15th field) ...
    fields = ["S", "1"] + ["0"] * 9 + [str(3 * TICKS), str(2 * TICKS)] + ["0"] * 30
    stat.write_text(f"42 (isa (worker) 1) {' '.join(fields)}\n")
    assert _cpu_seconds(stat) == 5.0


def test_a_vanished_process_reads_as_nothing(tmp_path: Path) -> None:
    assert _cpu_seconds(tmp_path / "gone" / "stat") is None
    assert spent(None, CpuSample(1.0, 1.0), 1.0) is None


def test_the_share_of_the_window_is_the_main_threads_cpu_over_its_length() -> None:
    window = spent(CpuSample(10.0, 4.0), CpuSample(13.0, 5.5), seconds=2.0)
    assert window is not None
    assert window.cpu_seconds == 3.0
    assert window.main_busy == 0.75
    supervised = spent(CpuSample(10.0, None), CpuSample(12.0, None), seconds=2.0)
    assert supervised is not None
    assert supervised.main_busy is None


BUSY_THEN_WAIT = """
import sys, time
sys.stdin.readline()
deadline = time.process_time() + 0.3
while time.process_time() < deadline:
    pass
print("spent", flush=True)
sys.stdin.read()
"""


def test_a_busy_server_is_seen_spending() -> None:
    """A process with no children of its own, as ``isa serve --workers 1`` is: its main
    thread is read as well as its total."""
    busy = subprocess.Popen(
        [sys.executable, "-c", BUSY_THEN_WAIT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        clock = ServerClock(busy.pid)
        before = clock.sample()
        assert busy.stdin is not None
        assert busy.stdout is not None
        busy.stdin.write("go\n")
        busy.stdin.flush()
        assert busy.stdout.readline().strip() == "spent"
        after = clock.sample()
    finally:
        busy.kill()
        busy.wait()
    assert before is not None
    assert after is not None
    assert before.main_thread is not None
    assert after.main_thread is not None
    assert after.processes - before.processes >= 0.2
    assert after.main_thread - before.main_thread >= 0.2
