"""Benchmark: `leadflow import --json` of an XLSX beside the same rows as CSV, side by side.

The rows come from bench/messy_csv.py; the XLSX holds them as a spreadsheet does: text
cells, phones partly as numbers (4155550107 stored as a number), a date column. Both
files are imported as whole processes in the same run; the issue's target is an XLSX
import at most 2x the CSV import. Peak memory is the process tree's (bench/proctree.py).

    .venv/bin/python bench/xlsx_read_bench.py --rows 50000
    .venv/bin/python bench/xlsx_read_bench.py --rows 1048575 --repeat 1   # memory check

Prints one JSON object: median seconds of each, the ratio, peak RSS of each, the reader
the XLSX import used (python-calamine below LEADFLOW_XLSX_CALAMINE_MAX_BYTES, openpyxl
read-only above) and both summaries' counts.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from messy_csv import write_messy_csv  # noqa: E402
from proctree import environment, run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LEADFLOW = ROOT / ".venv" / "bin" / "leadflow"
COUNTS = ("received", "valid", "invalid", "duplicates", "created", "updated", "ignored")


def write_xlsx_from_csv(source: Path, target: Path) -> None:
    """The CSV's rows as one XLSX sheet, with numeric phones and a date column."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Leads")
    start = dt.date(2024, 1, 1)
    with source.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        phone = header.index("Phone")
        sheet.append([*header, "Created"])
        for n, row in enumerate(reader):
            cells: list[object] = list(row)
            digits = row[phone].replace("-", "").replace(" ", "")
            if n % 3 == 0 and digits.isdigit() and len(digits) == 10:
                cells[phone] = int(digits)  # what Excel does to a phone typed as digits
            sheet.append([*cells, start + dt.timedelta(days=n % 700)])
    book.save(target)


def _import(path: Path, tmp: str, env: dict[str, str]) -> tuple[float, float, dict[str, object]]:
    data = Path(tmp) / f"data-{path.suffix[1:]}"
    result = run(
        [str(LEADFLOW), "import", str(path), "--json"],
        env=environment(LEADFLOW_DATA_DIR=str(data), **env),
    )
    if result.returncode != 0:
        raise SystemExit(f"leadflow import {path.name} failed with exit code {result.returncode}")
    shutil.rmtree(data, ignore_errors=True)
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    return result.seconds, result.peak_rss_mb, summary


def env_settings(args: argparse.Namespace) -> dict[str, int]:
    """The settings the XLSX import ran with, as Settings keyword arguments."""
    if args.calamine_max_bytes is None:
        return {}
    return {"xlsx_calamine_max_bytes": args.calamine_max_bytes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--calamine-max-bytes",
        type=int,
        default=None,
        help="LEADFLOW_XLSX_CALAMINE_MAX_BYTES for the XLSX import (0: openpyxl only)",
    )
    args = parser.parse_args()
    cache = ROOT / "bench" / "out"
    cache.mkdir(parents=True, exist_ok=True)
    source = cache / f"messy-{args.rows}.csv"
    if not source.exists():
        write_messy_csv(source, args.rows)
    book = cache / f"messy-{args.rows}.xlsx"
    if not book.exists():
        write_xlsx_from_csv(source, book)
    env: dict[str, str] = {}
    if args.calamine_max_bytes is not None:
        env["LEADFLOW_XLSX_CALAMINE_MAX_BYTES"] = str(args.calamine_max_bytes)
    csv_runs: list[tuple[float, float, dict[str, object]]] = []
    xlsx_runs: list[tuple[float, float, dict[str, object]]] = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            csv_runs.append(_import(source, tmp, {}))
            xlsx_runs.append(_import(book, tmp, env))
    csv_s = statistics.median(r[0] for r in csv_runs)
    xlsx_s = statistics.median(r[0] for r in xlsx_runs)
    from leadflow.readers import read_options
    from leadflow.readers.xlsx_reader import XlsxRecords
    from leadflow.settings import Settings

    options = read_options(Settings(_env_file=None, **env_settings(args)))  # type: ignore[call-arg]
    engine = XlsxRecords(book, 1, options).engine  # chosen by the sheets' uncompressed size
    print(
        json.dumps(
            {
                "benchmark": "xlsx_import",
                "rows": args.rows,
                "xlsx_mb": round(book.stat().st_size / 1e6, 1),
                "csv_mb": round(source.stat().st_size / 1e6, 1),
                "runs": args.repeat,
                "xlsx_reader": engine,
                "csv_seconds": round(csv_s, 3),
                "xlsx_seconds": round(xlsx_s, 3),
                "ratio_xlsx_to_csv": round(xlsx_s / csv_s, 2),
                "csv_peak_rss_mb": round(max(r[1] for r in csv_runs), 1),
                "xlsx_peak_rss_mb": round(max(r[1] for r in xlsx_runs), 1),
                "all_csv_seconds": [round(r[0], 3) for r in csv_runs],
                "all_xlsx_seconds": [round(r[0], 3) for r in xlsx_runs],
                "csv_summary": {k: csv_runs[-1][2].get(k) for k in COUNTS},
                "xlsx_summary": {k: xlsx_runs[-1][2].get(k) for k in COUNTS},
            }
        )
    )


if __name__ == "__main__":
    main()
