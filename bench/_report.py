"""What every benchmark shares: the machine description, the BENCHMARKS.md section
writer and small argument parsers."""

from __future__ import annotations

import argparse
import os
import platform
import re
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "BENCHMARKS.md"

HEADER = """# Benchmarks

Figures measured by the benchmarks in `bench/` (`make bench` runs them). Each benchmark
rewrites only its own section of this file, between its `<!-- bench:NAME:start -->` and
`<!-- bench:NAME:end -->` markers, and leaves everything else here as it is, so notes
written by hand outside the markers survive a re-run.
"""


def markers(name: str) -> tuple[str, str]:
    """The start and end markers of benchmark ``name``'s section."""
    return f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"


def machine(software: Mapping[str, str]) -> dict[str, str]:
    """CPU, cores, memory, OS and Python, plus the ``software`` versions given."""
    cpu = platform.processor() or platform.machine()
    memory = "unknown"
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        meminfo = Path("/proc/meminfo").read_text(encoding="utf-8")
    except OSError:
        cpuinfo = meminfo = ""
    if found := re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE):
        cpu = found.group(1).strip()
    if found := re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.MULTILINE):
        memory = f"{int(found.group(1)) / 1024 / 1024:.1f} GiB"
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count() or "unknown"),
        "RAM": memory,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        **software,
    }


def write_section(path: Path, name: str, section: str) -> None:
    """Replace benchmark `name`'s section of `path` (or add it), keeping the rest."""
    start_marker, end_marker = markers(name)
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    start, end = text.find(start_marker), text.find(end_marker)
    if start != -1 and end > start:
        text = text[:start] + section.rstrip("\n") + text[end + len(end_marker) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def positive(value: str) -> int:
    """An argparse type: a whole number, 1 or more."""
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("expected a whole number, 1 or more")
    return number
