"""Benchmark: ``ikm-sync catalog import`` of a large catalogue, SQLite and PostgreSQL.

Generates a deterministic products CSV (100,000 rows by default) and a matching
producers CSV, then, for each backend and each run, on a fresh migrated database:

* first import of both files into the empty catalogue: rows per second and peak RSS;
* re-import of the same, unchanged files (nothing to write): seconds and peak RSS.

Every measurement is one run of the real command line in its own process, so the wall
time includes interpreter start-up and the peak RSS (from ``wait4``) is that of a single
import. The figures replace this benchmark's section of BENCHMARKS.md.

    python -m bench.import_catalogue                      # 100,000 rows, 3 runs, both
    python -m bench.import_catalogue --rows 2000 --runs 1 --no-postgres   # smoke run
"""

from __future__ import annotations

import argparse
import base64
import csv
import os
import random
import secrets
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bench._report import BENCHMARKS, ROOT, machine, markers, positive, write_section
from core.catalogue.validate import PRODUCER_COLUMNS, PRODUCT_COLUMNS

CLI = ROOT / ".venv" / "bin" / "ikm-sync"
NAME = "import_catalogue"
START, END = markers(NAME)
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SEED = 20_250_601

#: The goals from the issue.
GOAL_SQLITE_ROWS_PER_SECOND = 20_000
GOAL_PEAK_RSS_MB = 300
#: "Re-import costs a fraction of the first import", taken as at most half its time.
GOAL_REIMPORT_FRACTION = 0.5


class BenchError(Exception):
    """A measurement could not be taken (the command failed or gave wrong results)."""


# ------------------------------------------------------------------ catalogue data

_PRODUCTS: tuple[tuple[str, str, tuple[str, ...], int, int], ...] = (
    # base name, category, sizes, min grams, max grams
    (
        "Keripik Tempe",
        "Makanan & Minuman > Camilan",
        ("100 g", "250 g", "500 g"),
        100,
        550,
    ),
    (
        "Kopi Arabika Biji Sangrai",
        "Makanan & Minuman > Kopi",
        ("200 g", "1 kg"),
        200,
        1100,
    ),
    ("Kopi Robusta Bubuk", "Makanan & Minuman > Kopi", ("250 g", "500 g"), 250, 550),
    ("Kain Tenun Ikat", "Fashion > Kain Tradisional", ("2 m", "180 x 60 cm"), 300, 900),
    ("Batik Tulis Motif Parang", "Fashion > Batik", ("2,5 m", "Kemeja L"), 250, 700),
    ("Tas Anyaman Pandan", "Kerajinan > Anyaman", ("Sedang", "Besar"), 200, 900),
    ("Sambal Roa", "Makanan & Minuman > Bumbu", ("150 ml", "250 ml"), 200, 400),
    (
        "Madu Hutan Murni",
        "Makanan & Minuman > Madu",
        ("250 ml", "500 ml", "1 L"),
        300,
        1500,
    ),
    ("Gula Aren Cetak", "Makanan & Minuman > Gula", ("500 g", "1 kg"), 500, 1050),
    ("Kursi Rotan Teras", "Perabot > Kursi", ("1 pcs", "Set 2 pcs"), 4000, 15000),
    ("Sandal Kulit Sapi", "Fashion > Alas Kaki", ("Ukuran 40", "Ukuran 42"), 400, 900),
    ("Sabun Sereh Alami", "Kecantikan > Sabun", ("100 g", "isi 3"), 100, 350),
    (
        "Keset Sabut Kelapa",
        "Rumah Tangga > Keset",
        ("40 x 60 cm", "50 x 80 cm"),
        800,
        2000,
    ),
    ("Dompet Kulit Lipat", "Fashion > Dompet", ("Pria", "Wanita"), 100, 300),
    ("Gerabah Kendi Tanah Liat", "Kerajinan > Gerabah", ("1 L", "2 L"), 1000, 3000),
    (
        "Kerupuk Ikan Tenggiri",
        "Makanan & Minuman > Kerupuk",
        ("250 g", "500 g"),
        250,
        550,
    ),
    ("Teh Daun Kelor", "Makanan & Minuman > Teh", ("50 g", "isi 20"), 60, 200),
    ("Minyak Kelapa Murni", "Kesehatan > Minyak", ("100 ml", "250 ml"), 150, 350),
    ("Ukiran Kayu Jati", "Kerajinan > Ukiran", ("30 cm", "50 cm"), 1500, 8000),
    (
        "Songket Tenun Tangan",
        "Fashion > Kain Tradisional",
        ("2 m", "Selendang"),
        300,
        800,
    ),
    ("Meja Lipat Kayu Mahoni", "Perabot > Meja", ("60 cm", "80 cm"), 5000, 12000),
    ("Peci Rajut Tangan", "Fashion > Aksesori", ("No. 6", "No. 7"), 50, 120),
)
_VARIANTS = (
    "Pedas",
    "Original",
    "Premium",
    "Motif Klasik",
    "Warna Alami",
    "Rasa Balado",
    "Edisi Lebaran",
    "Super",
    "Organik",
    "Halus",
    "Asli",
    "Pewarna Alam",
)
_PLACES = (
    ("Jawa Timur", "Kabupaten Malang", "Malang"),
    ("Jawa Barat", "Kabupaten Garut", "Garut"),
    ("Nusa Tenggara Timur", "Kabupaten Sumba Timur", "Sumba"),
    ("Jawa Tengah", "Kota Pekalongan", "Pekalongan"),
    ("Jawa Tengah", "Kabupaten Jepara", "Jepara"),
    ("Sulawesi Selatan", "Kabupaten Toraja Utara", "Toraja"),
    ("Kalimantan Barat", "Kota Pontianak", "Pontianak"),
    ("Nusa Tenggara Barat", "Kabupaten Lombok Tengah", "Lombok"),
    ("Aceh", "Kabupaten Aceh Tengah", "Gayo"),
    ("Sumatera Selatan", "Kota Palembang", "Palembang"),
    ("Sulawesi Utara", "Kota Manado", "Manado"),
    ("Bali", "Kabupaten Gianyar", "Gianyar"),
    ("DI Yogyakarta", "Kabupaten Bantul", "Bantul"),
    ("Sumatera Barat", "Kota Bukittinggi", "Bukittinggi"),
)
_TRADES = (
    "Kerajinan",
    "Pangan Olahan",
    "Tenun",
    "Batik",
    "Mebel",
    "Anyaman",
    "Kopi",
    "Kulit",
)
_OWNERS = (
    "Sri Rahayu",
    "Budi Santoso",
    "Made Sudarsana",
    "Yohana Tefa",
    "Siti Aminah",
    "Andi Mappanyukki",
    "Rudi Hartono",
    "Nur Halimah",
    "Wayan Suteja",
    "Dewi Lestari",
)
_SENTENCES = (
    "Dibuat tangan oleh perajin setempat dengan bahan pilihan.",
    "Dikemas rapi dan aman untuk pengiriman ke seluruh Indonesia.",
    "Tanpa bahan pengawet, diproduksi dalam jumlah kecil setiap minggu.",
    "Cocok untuk oleh-oleh, hadiah dan kebutuhan sehari-hari.",
    "Sudah bersertifikat halal dan terdaftar PIRT.",
)


@dataclass(frozen=True)
class _Producer:
    code: str
    kind: str
    province: str
    regency: str
    place: str
    institution: str


def _producers(rng: random.Random, count: int) -> list[_Producer]:
    result = []
    for number in range(1, count + 1):
        province, regency, place = rng.choice(_PLACES)
        wbp = number % 5 == 0
        institution = f"Lapas Kelas IIA {place}" if wbp else ""
        result.append(
            _Producer(
                f"BENCH-P{number:04d}",
                "wbp" if wbp else "ikm",
                province,
                regency,
                place,
                institution,
            )
        )
    return result


def _producer_row(rng: random.Random, producer: _Producer) -> list[str]:
    if producer.kind == "wbp":
        name = f"Bengkel Kerja {producer.institution}"
        sentra = ""
    else:
        name = f"IKM {rng.choice(_TRADES)} {rng.choice(_OWNERS)} {producer.place}"
        sentra = f"Sentra {rng.choice(_TRADES)} {producer.place}"
    business_id = "".join(rng.choice("0123456789") for _ in range(13))
    return [
        producer.code,
        name,
        producer.kind,
        producer.province,
        producer.regency,
        sentra,
        producer.institution,
        business_id,
    ]


def _product_row(rng: random.Random, number: int, producer: _Producer) -> list[str]:
    base, category, sizes, low, high = rng.choice(_PRODUCTS)
    variant = rng.choice(_VARIANTS)
    name = f"{base} {variant} {producer.place} {rng.choice(sizes)}"
    sku = f"BENCH-{number:06d}"
    price = rng.randrange(5_000, 2_500_000, 500)
    weight = rng.randint(low, high)
    if rng.random() < 0.7:
        length, width, height = (str(rng.randint(5, 120)) for _ in range(3))
    else:
        length = width = height = ""
    images = "|".join(
        f"https://img.bench.example/{sku}/{i}.jpg"
        for i in range(1, rng.randint(1, 2) + 1)
    )
    description = (
        f"{base} {variant.lower()} dari {producer.place}. {rng.choice(_SENTENCES)}"
    )
    condition = "used" if rng.random() < 0.05 else "new"
    roll = rng.random()
    status = "archived" if roll < 0.03 else "draft" if roll < 0.1 else "active"
    provenance = (
        f"Hasil pembinaan kemandirian WBP, {producer.institution}"
        if producer.kind == "wbp"
        else f"IKM binaan e-Smart IKM, {producer.regency}"
    )
    stock = str(rng.randint(0, 50))
    values = {
        "sku": sku,
        "producer_code": producer.code,
        "name": name,
        "price": str(price),
        "weight_grams": str(weight),
        "description": description,
        "category": category,
        "length_cm": length,
        "width_cm": width,
        "height_cm": height,
        "image_urls": images,
        "condition": condition,
        "status": status,
        "provenance": provenance,
        "stock": stock,
    }
    return [values[column] for column in PRODUCT_COLUMNS]


def generate_catalogue(
    directory: Path, rows: int, producers: int, seed: int = SEED
) -> tuple[Path, Path]:
    """Write ``producers.csv`` and ``products.csv`` into ``directory``.

    The same seed gives the same files, byte for byte.
    """
    rng = random.Random(seed)
    makers = _producers(rng, producers)
    producers_path = directory / "producers.csv"
    products_path = directory / "products.csv"
    with producers_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PRODUCER_COLUMNS)
        writer.writerows(_producer_row(rng, p) for p in makers)
    with products_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PRODUCT_COLUMNS)
        writer.writerows(
            _product_row(rng, number, rng.choice(makers))
            for number in range(1, rows + 1)
        )
    return producers_path, products_path


# ------------------------------------------------------------------- measurement


@dataclass(frozen=True)
class Measurement:
    """One command: wall time and the peak resident set size of its process."""

    seconds: float
    peak_rss_mb: float
    stdout: str


def run_cli(args: Sequence[str], *, url: str, workdir: Path, label: str) -> Measurement:
    """Run ``ikm-sync ARGS`` against ``url`` in its own process and measure it.

    Raises:
        BenchError: the command exited with a non-zero status.
    """
    env = {
        **os.environ,
        "IKMSYNC_DATABASE_URL": url,
        "IKMSYNC_LOGGING__LEVEL": "WARNING",
        # An import stores no token, but every command that opens the store needs a
        # token key outside development: a throwaway one.
        "IKMSYNC_TOKEN_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode("ascii"),
        "COLUMNS": "120",
    }
    env.pop("IKMSYNC_DATABASE__URL", None)
    out_path = workdir / f"{label}.out"
    err_path = workdir / f"{label}.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - a fixed executable and our own arguments
            [str(CLI), *args], cwd=workdir, env=env, stdout=out, stderr=err
        )
        # wait4 gives the rusage of this one child, so ru_maxrss is its own peak RSS.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_text(encoding="utf-8", errors="replace")
    if process.returncode != 0:
        stderr = err_path.read_text(encoding="utf-8", errors="replace")
        tail = "\n".join((stdout + stderr).strip().splitlines()[-25:])
        raise BenchError(
            f"`ikm-sync {shlex.join(args)}` exited with {process.returncode}:\n{tail}"
        )
    return Measurement(seconds, usage.ru_maxrss / 1024, stdout)  # ru_maxrss is in KiB


def _count(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            statement = sa.select(sa.func.count()).select_from(sa.table(table))
            return int(connection.execute(statement).scalar_one())
    finally:
        engine.dispose()


@dataclass
class BackendResult:
    """The measurements of one backend, or why it was not measured."""

    name: str
    version: str = ""
    first: list[Measurement] = field(default_factory=list)
    reimport: list[Measurement] = field(default_factory=list)
    skipped: str = ""


DatabaseFactory = Callable[[int], AbstractContextManager[str]]


def bench_backend(
    result: BackendResult,
    fresh_database: DatabaseFactory,
    files: Sequence[Path],
    *,
    rows: int,
    producers: int,
    runs: int,
    workdir: Path,
) -> None:
    """Measure ``runs`` first imports (each on a fresh database) and re-imports."""
    names = [str(f) for f in files]
    for run in range(1, runs + 1):
        with fresh_database(run) as url:
            tag = f"{result.name.lower()}-{run}"
            run_cli(["db", "upgrade"], url=url, workdir=workdir, label=f"{tag}-upgrade")
            first = run_cli(
                ["catalog", "import", *names],
                url=url,
                workdir=workdir,
                label=f"{tag}-first",
            )
            stored = (_count(url, "products"), _count(url, "producers"))
            if stored != (rows, producers):
                raise BenchError(
                    f"{result.name}: after the first import the store holds "
                    f"{stored[0]} products and {stored[1]} producers, expected {rows} "
                    f"and {producers}"
                )
            again = run_cli(
                ["catalog", "import", *names],
                url=url,
                workdir=workdir,
                label=f"{tag}-reimport",
            )
            if "nothing to change" not in again.stdout:
                raise BenchError(
                    f"{result.name}: the re-import changed something:\n{again.stdout}"
                )
            result.first.append(first)
            result.reimport.append(again)
            print(
                f"  {result.name} run {run}/{runs}: first import {first.seconds:.2f} s "
                f"({rows / first.seconds:,.0f} rows/s, {first.peak_rss_mb:.0f} MB), "
                f"re-import {again.seconds:.2f} s ({again.peak_rss_mb:.0f} MB)",
                flush=True,
            )


def sqlite_databases(directory: Path) -> DatabaseFactory:
    """Fresh SQLite files in ``directory``, one per run."""

    @contextmanager
    def fresh(run: int) -> Iterator[str]:
        path = directory / f"bench-{run}.db"
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    return fresh


def postgres_version(admin_url: str) -> str:
    """The server's version; raises ``SQLAlchemyError`` when it cannot be reached."""
    engine = sa.create_engine(admin_url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            return str(connection.exec_driver_sql("SHOW server_version").scalar_one())
    finally:
        engine.dispose()


def postgres_databases(admin_url: str) -> DatabaseFactory:
    """Fresh PostgreSQL databases on ``admin_url``'s server, dropped afterwards."""

    @contextmanager
    def fresh(_run: int) -> Iterator[str]:
        name = f"ikmsync_bench_{secrets.token_hex(4)}"  # [a-z0-9_]: safe unquoted
        engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql(f"CREATE DATABASE {name}")
            try:
                url = make_url(admin_url).set(database=name)
                yield url.render_as_string(hide_password=False)
            finally:
                with engine.connect() as connection:
                    connection.exec_driver_sql(
                        f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )
        finally:
            engine.dispose()

    return fresh


# ----------------------------------------------------------------------- report


def _mb(value: float) -> str:
    return f"{value:.0f}"


def _backend_table(result: BackendResult, rows: int) -> list[str]:
    first_rates = [rows / m.seconds for m in result.first]
    first_secs = [m.seconds for m in result.first]
    first_rss = [m.peak_rss_mb for m in result.first]
    again_secs = [m.seconds for m in result.reimport]
    again_rss = [m.peak_rss_mb for m in result.reimport]
    fraction = statistics.median(again_secs) / statistics.median(first_secs)

    def line(label: str, values: list[float], show: Callable[[float], str]) -> str:
        return (
            f"| {label} | {show(statistics.median(values))} | {show(min(values))} "
            f"| {show(max(values))} |"
        )

    return [
        f"**{result.name}** ({result.version})",
        "",
        "| measure | median | min | max |",
        "|---|---:|---:|---:|",
        line("first import, rows/s", first_rates, lambda v: f"{v:,.0f}"),
        line("first import, seconds", first_secs, lambda v: f"{v:.2f}"),
        line("first import, peak RSS MB", first_rss, _mb),
        line("re-import, seconds", again_secs, lambda v: f"{v:.2f}"),
        line("re-import, peak RSS MB", again_rss, _mb),
        f"| re-import / first import (median seconds) | {fraction:.2f} | | |",
        "",
    ]


def _goals(results: Sequence[BackendResult], rows: int) -> list[str]:
    lines = ["| goal | measured | verdict |", "|---|---|---|"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    for result in results:
        if result.skipped:
            continue
        rate = statistics.median(rows / m.seconds for m in result.first)
        peak = max(m.peak_rss_mb for m in (*result.first, *result.reimport))
        fraction = statistics.median(
            m.seconds for m in result.reimport
        ) / statistics.median(m.seconds for m in result.first)
        if result.name == "SQLite":
            lines.append(
                f"| SQLite first import ≥ {GOAL_SQLITE_ROWS_PER_SECOND:,} rows/s | "
                f"{rate:,.0f} rows/s (median) | "
                f"{verdict(rate >= GOAL_SQLITE_ROWS_PER_SECOND)} |"
            )
        lines.append(
            f"| {result.name} peak memory < {GOAL_PEAK_RSS_MB} MB | {peak:.0f} MB "
            f"(highest of every import) | {verdict(peak < GOAL_PEAK_RSS_MB)} |"
        )
        lines.append(
            f"| {result.name} re-import a fraction of the first import "
            f"(≤ {GOAL_REIMPORT_FRACTION:g} of its time) | {fraction:.2f} | "
            f"{verdict(fraction <= GOAL_REIMPORT_FRACTION)} |"
        )
    return lines


def render_section(
    results: Sequence[BackendResult],
    *,
    command: str,
    rows: int,
    producers: int,
    runs: int,
) -> str:
    """This benchmark's section of BENCHMARKS.md, markers included."""
    info = machine({"SQLite": sqlite3.sqlite_version})
    postgres = next((r for r in results if r.name == "PostgreSQL"), None)
    if postgres is not None and postgres.version:
        info["PostgreSQL server"] = postgres.version.removeprefix("PostgreSQL ")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        START,
        "## Catalogue import (`bench/import_catalogue.py`)",
        "",
        f"`{command}`, run {now}.",
        "",
        f"A generated catalogue of {rows:,} products (1 or 2 image URLs, initial "
        f"stock 0 to 50, dimensions on about 70 %) from {producers} producers, "
        f"imported with `ikm-sync catalog import producers.csv products.csv` into a "
        f"freshly migrated, empty database, then imported again unchanged (nothing "
        f"to write). Each figure is one run of the command line in its own process: "
        f"seconds are wall time including start-up, rows/s is product rows over "
        f"those seconds, peak RSS is the process's maximum resident set size. "
        f"{runs} run(s) per backend, each first import on a new database.",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()) + ".",
        "",
    ]
    for result in results:
        if result.skipped:
            lines += [f"**{result.name}**: not measured ({result.skipped}).", ""]
        else:
            lines += _backend_table(result, rows)
    lines += ["Goals:", "", *_goals(results, rows), END]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------ main


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.import_catalogue",
        description="Benchmark `ikm-sync catalog import` and write BENCHMARKS.md.",
    )
    parser.add_argument(
        "--rows",
        type=positive,
        default=100_000,
        help="product rows to generate (default 100000)",
    )
    parser.add_argument(
        "--producers",
        type=positive,
        default=200,
        help="producers to generate (default 200)",
    )
    parser.add_argument(
        "--runs", type=positive, default=3, help="runs per measurement (default 3)"
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="a database on the server to create bench databases from "
        f"(default {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=BENCHMARKS,
        help="the file to write the figures to (default BENCHMARKS.md)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when every measurement was taken."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    options = parse_args(arguments)
    command = shlex.join(["python", "-m", "bench.import_catalogue", *arguments])
    if not CLI.exists():
        print(f"error: {CLI} not found; run `make install` first", file=sys.stderr)
        return 2
    results: list[BackendResult] = []
    with tempfile.TemporaryDirectory(prefix="ikmsync-bench-") as tmp:
        workdir = Path(tmp)
        print(
            f"generating {options.rows:,} products from {options.producers} producers…"
        )
        files = generate_catalogue(workdir, options.rows, options.producers)
        backends: list[tuple[BackendResult, DatabaseFactory | None]] = [
            (
                BackendResult("SQLite", f"SQLite {sqlite3.sqlite_version}"),
                sqlite_databases(workdir),
            ),
        ]
        postgres = BackendResult("PostgreSQL")
        if options.no_postgres:
            postgres.skipped = "--no-postgres"
            backends.append((postgres, None))
        else:
            try:
                postgres.version = (
                    f"PostgreSQL {postgres_version(options.postgres_url)}"
                )
                backends.append((postgres, postgres_databases(options.postgres_url)))
            except SQLAlchemyError as exc:
                reason = str(exc).splitlines()[0]
                postgres.skipped = f"unreachable at {options.postgres_url}"
                print(
                    f"PostgreSQL skipped: cannot connect to {options.postgres_url}: "
                    f"{reason}",
                    file=sys.stderr,
                )
                backends.append((postgres, None))
        for result, factory in backends:
            if factory is not None:
                print(f"{result.name}: {options.runs} run(s)", flush=True)
                try:
                    bench_backend(
                        result,
                        factory,
                        files,
                        rows=options.rows,
                        producers=options.producers,
                        runs=options.runs,
                        workdir=workdir,
                    )
                except (BenchError, SQLAlchemyError) as exc:
                    print(f"error: {result.name}: {exc}", file=sys.stderr)
                    return 1
            results.append(result)
    section = render_section(
        results,
        command=command,
        rows=options.rows,
        producers=options.producers,
        runs=options.runs,
    )
    write_section(options.output, NAME, section)
    print()
    print(section)
    print(f"written to {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
