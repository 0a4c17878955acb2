"""Benchmark: what the audit trail costs, audited against unaudited in one run.

The unaudited side is the tree of the commit just before the audit trail
(``--baseline``; by default the parent of the commit that added ``core/audit/``),
checked out as a temporary git worktree and run with this interpreter with that
tree first on ``PYTHONPATH``; the audited side is this tree. The two alternate run
by run, so whatever else the machine does falls on both alike.

1. **Catalogue import**: ``ikm-sync catalog import`` of ``--rows`` products (and
   their producers, from ``bench.import_catalogue``'s generator) into a fresh,
   migrated database, SQLite and PostgreSQL: rows per second of the whole command.
2. **Order ingest**: ``bench.sync``'s throughput child (publish ``--products``,
   then ``--orders`` orders placed on the simulators and pulled): orders per second
   of the pull, and inside ``OrderIngester.ingest``.
3. **Concurrent writers** (PostgreSQL): ``--writers`` processes (8 and 16 by
   default) each committing ``--transactions`` stock receipts, one per transaction
   (``bench/_audit_writer.py``), all started together: transactions per second
   (all transactions over the slowest writer's seconds). The audited side then
   seals what they wrote (``ikm-sync audit seal``) and verifies the chain
   (``ikm-sync audit verify``): events per second.

Median of ``--runs`` runs each. The figures replace this benchmark's section of
BENCHMARKS.md.

    python -m bench.audit                      # 100,000 rows, 10,000 orders, 3 runs
    python -m bench.audit --quick              # a smoke run, minutes
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from bench._report import BENCHMARKS, ROOT, machine, markers, positive, write_section
from bench.import_catalogue import generate_catalogue
from bench.sync import postgres_database, postgres_version, sqlite_database

NAME = "audit"
START, END = markers(NAME)
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
WRITER = ROOT / "bench" / "_audit_writer.py"
GIT = shutil.which("git") or "/usr/bin/git"
#: Goals from the issue.
GOAL_COST = 0.15
GOAL_WRITERS_TPS = 2_000
GOAL_WRITERS = 16

Figures = dict[str, float]


class BenchError(Exception):
    """A measurement could not be taken."""


@dataclass(frozen=True)
class Tree:
    """A source tree to measure: ``label`` and where it is."""

    label: str
    path: Path

    def env(self, url: str) -> dict[str, str]:
        """The environment of a command run from this tree against ``url``."""
        env = {
            **os.environ,
            "PYTHONPATH": str(self.path),
            "IKMSYNC_DATABASE_URL": url,
            "IKMSYNC_LOGGING__LEVEL": "WARNING",
            "IKMSYNC_TOKEN_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "COLUMNS": "120",
        }
        env.pop("IKMSYNC_DATABASE__URL", None)
        return env

    def run(self, args: Sequence[str], url: str) -> tuple[float, str]:
        """``args`` (a module and its arguments) run with this tree: seconds and
        standard output.

        Raises:
            BenchError: it exited with a failure.
        """
        started = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - our interpreter, our modules
            [sys.executable, *args],
            cwd=self.path,
            env=self.env(url),
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
            raise BenchError(f"{self.label}: `{shlex.join(args)}` failed:\n{tail}")
        return seconds, done.stdout

    def cli(self, args: Sequence[str], url: str) -> tuple[float, str]:
        """``ikm-sync ARGS`` from this tree."""
        return self.run(["-m", "ikm_sync", *args], url)


def baseline_commit() -> str:
    """The parent of the commit that added the audit trail (``core/audit/``)."""
    added = subprocess.run(  # noqa: S603 - git, our arguments
        [
            GIT,
            "log",
            "--diff-filter=A",
            "--format=%H",
            "--",
            "core/audit/__init__.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not added:
        raise BenchError("no commit adds core/audit/: give --baseline")
    return f"{added[-1]}^"


@contextmanager
def worktree(ref: str) -> Iterator[Path]:
    """``ref`` checked out in a temporary git worktree, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="ikmsync-bench-baseline-") as tmp:
        path = Path(tmp) / "tree"
        subprocess.run(  # noqa: S603
            [GIT, "worktree", "add", "--detach", "--quiet", str(path), ref],
            cwd=ROOT,
            check=True,
        )
        try:
            yield path
        finally:
            subprocess.run(  # noqa: S603
                [GIT, "worktree", "remove", "--force", str(path)],
                cwd=ROOT,
                check=False,
            )


def _scalar(url: str, query: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text(query)).scalar_one())
    finally:
        engine.dispose()


def _skus(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return [
                str(r[0])
                for r in connection.execute(sa.text("SELECT sku FROM products"))
            ]
    finally:
        engine.dispose()


# ----------------------------------------------------------------- measurements


def measure_import(tree: Tree, url: str, files: Sequence[Path], rows: int) -> Figures:
    """One catalogue import into the fresh database ``url``."""
    tree.cli(["db", "upgrade"], url)
    seconds, _ = tree.cli(["catalog", "import", *map(str, files)], url)
    if (stored := _scalar(url, "SELECT count(*) FROM products")) != rows:
        raise BenchError(f"{tree.label}: {stored} products imported, expected {rows}")
    return {"import.rows_per_s": rows / seconds, "import.seconds": seconds}


def measure_orders(tree: Tree, url: str, products: int, orders: int) -> Figures:
    """One order ingest (``bench.sync``'s throughput child) on ``url``."""
    args = ["-m", "bench.sync", "--child", "throughput", "--url", url]
    _, out = tree.run(
        [*args, "--products", str(products), "--orders", str(orders)], url
    )
    found = json.loads(out.strip().splitlines()[-1])
    return {
        "orders.per_s": float(found["orders.per_s"]),
        "orders.ingest_per_s": float(found["orders.ingest_per_s"]),
    }


def measure_writers(
    tree: Tree, url: str, catalogue: Sequence[Path], writers: int, each: int
) -> Figures:
    """``writers`` processes of ``each`` one-receipt transactions on ``url``."""
    tree.cli(["db", "upgrade"], url)
    tree.cli(["catalog", "import", *map(str, catalogue)], url)
    skus = ",".join(_skus(url))
    existing = _scalar(url, "SELECT count(*) FROM stock_movements")  # the import's
    processes = [
        subprocess.Popen(  # noqa: S603 - our interpreter, our script
            [sys.executable, str(WRITER), url, str(n * each), str(each), skus],
            cwd=tree.path,
            env=tree.env(url),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(writers)
    ]
    for process in processes:
        if process.stdin is None:
            raise BenchError("a writer has no standard input")
        process.stdin.write("go\n")
        process.stdin.flush()
    reports = []
    for process in processes:
        out, err = process.communicate()
        if process.returncode != 0:
            raise BenchError(f"{tree.label}: a writer failed:\n{err[-2000:]}")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    total = sum(int(r["transactions"]) for r in reports)
    stored = _scalar(url, "SELECT count(*) FROM stock_movements") - existing
    if stored != total:
        raise BenchError(f"{tree.label}: {stored} movements written, expected {total}")
    figures = {
        f"writers{writers}.tps": total / max(float(r["seconds"]) for r in reports)
    }
    if tree.label == "audited":
        events = _scalar(url, "SELECT count(*) FROM audit_events WHERE seq IS NULL")
        if events < total:
            raise BenchError(f"audited: {events} unsealed events for {total} receipts")
        seal, _ = tree.cli(["audit", "seal"], url)
        verify, _ = tree.cli(["audit", "verify"], url)
        figures[f"writers{writers}.seal_events_per_s"] = events / seal
        figures[f"writers{writers}.verify_events_per_s"] = events / verify
    return figures


# ----------------------------------------------------------------- the run


@dataclass
class Results:
    """Per tree label and figure, the runs' values."""

    values: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def add(self, label: str, figures: Figures) -> None:
        for key, value in figures.items():
            self.values.setdefault(label, {}).setdefault(key, []).append(value)

    def median(self, label: str, key: str) -> float | None:
        found = self.values.get(label, {}).get(key)
        return statistics.median(found) if found else None


Databases = Callable[[str], AbstractContextManager[str]]


def bench(options: argparse.Namespace, trees: Sequence[Tree], workdir: Path) -> Results:
    """Every measurement, ``options.runs`` times, alternating the trees."""
    results = Results()
    catalogue = generate_catalogue(workdir, options.rows, max(1, options.rows // 100))
    small_dir = workdir / "small"
    small_dir.mkdir()
    small = generate_catalogue(small_dir, options.writer_products, 10)
    backends: list[tuple[str, Databases]] = [
        ("sqlite", lambda label: sqlite_database(workdir, label))
    ]
    if options.postgres_url:
        backends.append(
            ("postgresql", lambda _: postgres_database(options.postgres_url))
        )
    for run in range(1, options.runs + 1):
        for tree in trees if run % 2 else reversed(trees):
            for backend, fresh in backends:
                tag = f"{tree.label}-{backend}-{run}"
                with fresh(f"{tag}-import") as url:
                    figures = measure_import(tree, url, catalogue, options.rows)
                results.add(
                    tree.label, {f"{backend}.{k}": v for k, v in figures.items()}
                )
                with fresh(f"{tag}-orders") as url:
                    figures = measure_orders(
                        tree, url, options.products, options.orders
                    )
                results.add(
                    tree.label, {f"{backend}.{k}": v for k, v in figures.items()}
                )
                print(
                    f"  run {run} {tree.label} {backend}: import and orders", flush=True
                )
            if options.postgres_url:
                for writers in options.writers:
                    with postgres_database(options.postgres_url) as url:
                        figures = measure_writers(
                            tree, url, small, writers, options.transactions
                        )
                    results.add(
                        tree.label, {f"postgresql.{k}": v for k, v in figures.items()}
                    )
                    print(f"  run {run} {tree.label}: {writers} writers", flush=True)
    return results


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def render(
    results: Results, options: argparse.Namespace, command: str, baseline: str
) -> str:
    """The BENCHMARKS.md section."""
    software = (
        {"PostgreSQL": options.postgres_version} if options.postgres_version else {}
    )
    about = machine(software)
    rows = [
        ("import", "rows_per_s", f"catalogue import, {options.rows:,} rows: rows/s"),
        ("orders", "per_s", f"order pull, {options.orders:,} orders: orders/s"),
        ("orders", "ingest_per_s", "… inside `OrderIngester.ingest`: orders/s"),
    ]
    lines = [
        START,
        "## Audit trail: audited against unaudited",
        "",
        f"Command: `{command}`; unaudited = `{baseline}` (the commit before the audit "
        "trail) in a temporary worktree, audited = this tree; runs alternate. "
        f"Median of {options.runs} run(s).",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in about.items()) + ".",
        "",
        "| backend | measurement | unaudited | audited | cost |",
        "|---|---|---:|---:|---:|",
    ]
    costs: list[tuple[str, float]] = []
    backends = ["sqlite", *(["postgresql"] if options.postgres_url else [])]
    for backend in backends:
        for group, key, label in rows:
            name = f"{backend}.{group}.{key}"
            before, after = (
                results.median("unaudited", name),
                results.median("audited", name),
            )
            cost = None if not before or after is None else 1 - after / before
            if cost is not None and key != "ingest_per_s":
                costs.append((f"{backend} {group}", cost))
            shown = "—" if cost is None else f"{cost:+.1%}"
            lines.append(
                f"| {backend} | {label} | {_fmt(before)} | {_fmt(after)} | {shown} |"
            )
    for writers in options.writers if options.postgres_url else []:
        name = f"postgresql.writers{writers}.tps"
        before, after = (
            results.median("unaudited", name),
            results.median("audited", name),
        )
        cost = None if not before or after is None else 1 - after / before
        shown = "—" if cost is None else f"{cost:+.1%}"
        label = f"{writers} writers, one receipt per transaction: transactions/s"
        lines.append(
            f"| postgresql | {label} | {_fmt(before)} | {_fmt(after)} | {shown} |"
        )
        for key, text in (
            ("seal_events_per_s", "… then `audit seal`: events/s"),
            ("verify_events_per_s", "… then `audit verify`: events/s"),
        ):
            value = results.median("audited", f"postgresql.writers{writers}.{key}")
            lines.append(f"| postgresql | {text} | | {_fmt(value)} | |")
    lines += [
        "",
        "Cost = 1 - audited ÷ unaudited throughput.",
        "",
        "### Goals (issue 11)",
        "",
    ]
    for what, cost in costs:
        verdict = "met" if cost <= GOAL_COST else "not met"
        lines.append(
            f"- audit costs ≤ {GOAL_COST:.0%} of {what} throughput: "
            f"{cost:.1%}, {verdict}"
        )
    top = results.median("audited", f"postgresql.writers{GOAL_WRITERS}.tps")
    if top is not None:
        verdict = "met" if top >= GOAL_WRITERS_TPS else "not met"
        lines.append(
            f"- ≥ {GOAL_WRITERS_TPS:,} audited transactions/s at {GOAL_WRITERS} "
            f"writers on PostgreSQL: {top:,.0f}, {verdict}"
        )
    lines.append(END)
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.audit",
        description="Measure the audit trail's cost and write BENCHMARKS.md.",
    )
    parser.add_argument("--runs", type=positive, default=3)
    parser.add_argument("--rows", type=positive, default=100_000)
    parser.add_argument("--products", type=positive, default=1_000)
    parser.add_argument("--orders", type=positive, default=10_000)
    parser.add_argument("--writers", type=positive, nargs="+", default=[8, 16])
    parser.add_argument("--transactions", type=positive, default=500, help="per writer")
    parser.add_argument("--writer-products", type=positive, default=1_000)
    parser.add_argument("--baseline", help="the unaudited commit (default: see above)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--quick", action="store_true", help="small sizes, one run")
    parser.add_argument("--output", type=Path, default=BENCHMARKS)
    options = parser.parse_args(argv)
    if options.quick:
        options.runs, options.rows, options.products = 1, 5_000, 200
        options.orders, options.transactions = 1_000, 100
    if options.no_postgres:
        options.postgres_url = None
    return options


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when every measurement was taken."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    options = parse_args(arguments)
    options.postgres_version = ""
    if options.postgres_url:
        try:
            options.postgres_version = postgres_version(options.postgres_url)
        except sa.exc.SQLAlchemyError as exc:
            print(f"PostgreSQL not reachable ({exc.__class__.__name__}): SQLite only")
            options.postgres_url = None
    baseline = options.baseline or baseline_commit()
    command = shlex.join(["python", "-m", "bench.audit", *arguments])
    try:
        with worktree(baseline) as path, tempfile.TemporaryDirectory() as tmp:
            trees = [Tree("unaudited", path), Tree("audited", ROOT)]
            results = bench(options, trees, Path(tmp))
    except BenchError as exc:
        print(f"bench.audit: {exc}", file=sys.stderr)
        return 1
    section = render(results, options, command, baseline)
    write_section(options.output, NAME, section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
