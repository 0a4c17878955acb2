"""Benchmark: how long the command line takes to answer, before and after a change.

Each command is run as a child process of the console script ``.venv/bin/ikm-sync``,
``--runs`` times, against two source trees of ikm-sync with the same interpreter and
libraries: the baseline revision (``--baseline``, by default the last revision before
the command line imported its libraries on demand), extracted with ``git archive`` into
a temporary folder, and this working tree. ``PYTHONPATH`` picks the tree. The runs of
the two trees alternate, so a machine busy with other work slows both alike.

Commands: ``--help``, ``status``, ``stock show SKU`` and ``status --help``, on a SQLite
database migrated and loaded with the demo catalogue (``demo/*.csv``) by this tree's
command line. Then, for the floor under ``status`` and ``stock show``, the imports
alone of the libraries a command that reads the store cannot do without, each row
adding to the one before.

Per run: wall seconds from start to exit, CPU seconds (user + system, from ``wait4``)
and peak RSS (``ru_maxrss``). Median, min and max of the runs. The standard output of
the two trees must be the same for every command (help text and figures alike).
The figures replace this benchmark's section of BENCHMARKS.md.

    python -m bench.startup                 # 9 runs per command and tree
    python -m bench.startup --runs 3        # smoke
"""

from __future__ import annotations

import argparse
import base64
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from bench._report import BENCHMARKS, ROOT, machine, markers, positive, write_section

NAME = "startup"
START, END = markers(NAME)
PYTHON = ROOT / ".venv" / "bin" / "python"
CLI = ROOT / ".venv" / "bin" / "ikm-sync"
#: The last revision that imported every library when the command line started.
DEFAULT_BASELINE = "fd1f53e"
SKU = "KOPI-FLR-001"
#: A token key as production has one (a Fernet key: 32 random bytes, URL-safe base64).
TOKEN_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")
GOAL_SECONDS = 0.3

#: (label, arguments of ikm-sync)
COMMANDS: list[tuple[str, list[str]]] = [
    ("`ikm-sync --help`", ["--help"]),
    ("`ikm-sync status`", ["status"]),
    (f"`ikm-sync stock show {SKU}`", ["stock", "show", SKU]),
    ("`ikm-sync status --help`", ["status", "--help"]),
]
#: What a command reading the store must import, whatever the command line does.
FLOOR: list[tuple[str, str]] = [
    ("the interpreter alone", "pass"),
    ("+ typer, rich (the command line itself)", "import typer, rich.console"),
    ("+ structlog (logging)", "import typer, rich.console, structlog"),
    (
        "+ pydantic-settings (settings)",
        "import typer, rich.console, structlog, pydantic_settings",
    ),
    (
        "+ SQLAlchemy Core, SQLite dialect",
        "import typer, rich.console, structlog, pydantic_settings, sqlalchemy,"
        " sqlalchemy.dialects.sqlite",
    ),
    (
        "+ SQLAlchemy ORM, SQLModel",
        "import typer, rich.console, structlog, pydantic_settings, sqlalchemy,"
        " sqlalchemy.dialects.sqlite, sqlalchemy.orm, sqlmodel",
    ),
    (
        "+ the store's tables and repositories (`core.store.uow`)",
        "import typer, rich.console, structlog, pydantic_settings, sqlalchemy,"
        " sqlalchemy.dialects.sqlite, sqlalchemy.orm, sqlmodel, core.store.uow",
    ),
]


@dataclass
class Runs:
    """The measurements of one command in one tree."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    output: str | None = None


def run(
    argv: list[str], env: dict[str, str], workdir: Path
) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds, peak RSS MB and standard output of one child."""
    out_path, err_path = workdir / "run.out", workdir / "run.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            argv, cwd=workdir, env=env, stdout=out, stderr=err
        )
        # wait4 gives the rusage of this one child: its own CPU time and peak RSS.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = err_path.read_text(encoding="utf-8", errors="replace")[-800:]
        raise RuntimeError(
            f"{shlex.join(argv)} exited with {process.returncode}:\n{tail}"
        )
    output = out_path.read_text(encoding="utf-8", errors="replace")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output


def baseline_tree(revision: str, into: Path) -> Path:
    """The source tree of ``revision``, extracted from git into ``into``."""
    archive = subprocess.run(  # noqa: S603 - git with our own arguments
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision],  # noqa: S607
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def environment(tree: Path, database: Path) -> dict[str, str]:
    """The children's environment: ``tree`` first on the path, the bench database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("IKMSYNC_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        PYTHONPATH=str(tree),
        IKMSYNC_DATABASE_URL=f"sqlite:///{database}",
        IKMSYNC_TOKEN_KEYS=TOKEN_KEY,
        COLUMNS="120",
        TERM="dumb",
        NO_COLOR="1",
    )
    return env


def prepare_database(workdir: Path, env: dict[str, str]) -> None:
    """Migrate the bench database and import the demo catalogue into it."""
    for args in (
        ["db", "upgrade"],
        [
            "catalog",
            "import",
            str(ROOT / "demo" / "producers.csv"),
            str(ROOT / "demo" / "products.csv"),
        ],
    ):
        run([str(CLI), *args], env, workdir)


def measure(
    runs: int, trees: dict[str, Path], database: Path, workdir: Path
) -> tuple[dict[tuple[str, str], Runs], dict[str, Runs]]:
    """Every command in every tree, the trees' runs alternating; then the floor."""
    results = {(label, tree): Runs() for label, _ in COMMANDS for tree in trees}
    for label, args in COMMANDS:
        for path in trees.values():  # warm-up, untimed: writes the bytecode caches
            run([str(CLI), *args], environment(path, database), workdir)
        for _ in range(runs):
            for tree, path in trees.items():
                wall, cpu, rss, output = run(
                    [str(CLI), *args], environment(path, database), workdir
                )
                entry = results[label, tree]
                entry.wall.append(wall)
                entry.cpu.append(cpu)
                entry.rss_mb.append(rss)
                if entry.output is None:
                    entry.output = output
        outputs = {results[label, tree].output for tree in trees}
        if len(outputs) != 1:
            raise RuntimeError(f"{label}: the two trees print different output")
    floor = {label: Runs() for label, _ in FLOOR}
    env = environment(trees["after"], database)
    for number in range(runs + 1):
        for label, code in FLOOR:
            wall, cpu, rss, _output = run([str(PYTHON), "-c", code], env, workdir)
            if number == 0:
                continue  # warm-up, untimed
            floor[label].wall.append(wall)
            floor[label].cpu.append(cpu)
            floor[label].rss_mb.append(rss)
    return results, floor


def _s(values: list[float]) -> str:
    return f"{statistics.median(values):.3f}"


def _range(values: list[float]) -> str:
    return f"{min(values):.3f} to {max(values):.3f}"


def render(
    command: str,
    runs: int,
    baseline: str,
    results: dict[tuple[str, str], Runs],
    floor: dict[str, Runs],
    load: tuple[str, str],
) -> str:
    """This benchmark's section of BENCHMARKS.md."""
    own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    info = machine({"SQLite": sqlite_version()})
    lines = [
        START,
        "## Command-line start-up (`bench/startup.py`)",
        "",
        f"`{command}`, run {stamp}.",
        "",
        "Each command runs as its own process of the console script "
        "`.venv/bin/ikm-sync`, on a SQLite database holding the demo catalogue "
        f"(60 products, 12 producers), {runs} times in each of two source trees "
        "with the same interpreter and libraries: **before** is revision "
        f"`{baseline}` (every library imported when the command line starts), "
        "**after** is this tree (each command imports what it needs when it runs). "
        "The runs of the two trees alternate, after one untimed run of each that "
        "writes the bytecode caches (as an installed package has them). Wall is "
        "seconds from start to exit; CPU is user + system seconds of the process; "
        "peak RSS is its `ru_maxrss`, which Linux carries over from the process "
        f"that started it, so it never reads below this benchmark's own {own_mb:.0f} "
        "MB. "
        "Median of the runs, with min to max beside it. Both trees print the same "
        "standard output for every command.",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()) + ". "
        f"Load average (1 min) {load[0]} at the start, {load[1]} at the end: the "
        "machine is shared, so wall seconds are longer than on an idle one and CPU "
        "seconds are the steadier measure.",
        "",
        "| command | wall s before | wall s after | after, min to max "
        "| CPU s before | CPU s after | peak RSS MB before | peak RSS MB after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, _ in COMMANDS:
        before, after = results[label, "before"], results[label, "after"]
        lines.append(
            f"| {label} | {_s(before.wall)} | {_s(after.wall)} | {_range(after.wall)} "
            f"| {_s(before.cpu)} | {_s(after.cpu)} "
            f"| {statistics.median(before.rss_mb):.0f} "
            f"| {statistics.median(after.rss_mb):.0f} |"
        )
    lines += [
        "",
        "### The floor under `status` and `stock show`",
        "",
        '`python -c "import …"` of the libraries a command reading the store '
        "cannot do without, each row adding to the one before; same runs and "
        "statistics.",
        "",
        "| imports | wall s | CPU s | peak RSS MB |",
        "|---|---:|---:|---:|",
    ]
    for label, _ in FLOOR:
        entry = floor[label]
        lines.append(
            f"| {label} | {_s(entry.wall)} | {_s(entry.cpu)} "
            f"| {statistics.median(entry.rss_mb):.0f} |"
        )
    lines += [
        "",
        f"### Goal: ≤ {GOAL_SECONDS} s for `--help`, `status` and `stock show`",
        "",
        "| command | after, wall s (median) | after, CPU s (median) | verdict |",
        "|---|---:|---:|---|",
    ]
    for label, _ in COMMANDS[:3]:
        after = results[label, "after"]
        wall, cpu = statistics.median(after.wall), statistics.median(after.cpu)
        verdict = (
            "met"
            if wall <= GOAL_SECONDS
            else "met in CPU time, not in wall time on this loaded machine"
            if cpu <= GOAL_SECONDS
            else "not met"
        )
        lines.append(f"| {label} | {wall:.3f} | {cpu:.3f} | {verdict} |")
    core_floor = statistics.median(floor[FLOOR[4][0]].cpu)
    orm_share = statistics.median(floor[FLOOR[6][0]].cpu) - core_floor
    lines += [
        "",
        "Why `status` and `stock show` stay above the goal: importing the command "
        "line, logging, the settings and SQLAlchemy Core alone takes "
        f"{core_floor:.3f} s of CPU here (the floor table), before a setting is "
        "read or a row fetched. The ORM, SQLModel and the store's tables add "
        f"{orm_share:.3f} s more; a read path of their own in SQLAlchemy Core would "
        "save at most that, at the price of a second description of the tables "
        "and their queries, and would still not reach the goal.",
        END,
    ]
    return "\n".join(lines) + "\n"


def sqlite_version() -> str:
    """The SQLite library's version."""
    import sqlite3

    return sqlite3.sqlite_version


def load_average() -> str:
    """The one-minute load average."""
    return f"{os.getloadavg()[0]:.1f}"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The benchmark's options."""
    parser = argparse.ArgumentParser(prog="python -m bench.startup")
    parser.add_argument("--runs", type=positive, default=9, help="runs per command")
    parser.add_argument(
        "--baseline",
        default=DEFAULT_BASELINE,
        help=f"revision measured as before (default {DEFAULT_BASELINE})",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print, leave BENCHMARKS.md alone"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when every measurement was taken."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    options = parse_args(arguments)
    command = shlex.join(["python", "-m", "bench.startup", *arguments])
    if not CLI.exists():
        print(f"error: {CLI} not found; run `make install` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ikmsync-startup-") as tmp:
        workdir = Path(tmp)
        before = baseline_tree(options.baseline, workdir / "before")
        trees = {"before": before, "after": ROOT}
        database = workdir / "bench.sqlite3"
        prepare_database(workdir, environment(ROOT, database))
        load_start = load_average()
        results, floor = measure(options.runs, trees, database, workdir)
        load = (load_start, load_average())
    section = render(command, options.runs, options.baseline, results, floor, load)
    print(section)
    if not options.no_write:
        write_section(BENCHMARKS, NAME, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
