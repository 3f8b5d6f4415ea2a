"""Benchmark: `leadflow import --json` on a messy CSV, as a whole process, beside the floor.

The floor (bench/floor.py) is csv.DictReader + a one-transaction SQLite upsert of the raw
rows, measured in the same run, as a whole process too. Its `schema` variant writes into
leadflow's own leads table (same columns and indexes: the storage an import cannot
avoid); the `bare` variant into a table with a single index. The issue's target is the
ratio to the schema floor; both are printed.

Prints one JSON object: wall times (median of --repeat runs), ratios, leads/s, and the
peak memory of the import's whole process tree, sampled from /proc every 50 ms: the sum
of resident sets (pages shared by the forked workers counted in each) and of
proportional set sizes (shared pages split between the processes sharing them).

    .venv/bin/python bench/import_bench.py --rows 100000
    .venv/bin/python bench/import_bench.py --rows 1048576 --repeat 1
"""

from __future__ import annotations

import argparse
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
PYTHON = ROOT / ".venv" / "bin" / "python"
COUNTS = ("received", "valid", "invalid", "duplicates", "created", "updated", "ignored")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cache = ROOT / "bench" / "out"
    cache.mkdir(parents=True, exist_ok=True)
    source = cache / f"messy-{args.rows}.csv"
    if not source.exists():
        write_messy_csv(source, args.rows)
    floors: list[float] = []
    bare_floors: list[float] = []
    imports: list[float] = []
    rss: list[float] = []
    pss: list[float] = []
    summary: dict[str, object] = {}
    floor_script = str(ROOT / "bench" / "floor.py")
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            floor = run([str(PYTHON), floor_script, str(source), f"{tmp}/f.db", "schema"])
            bare = run([str(PYTHON), floor_script, str(source), f"{tmp}/b.db", "bare"])
            if floor.returncode or bare.returncode:
                raise SystemExit("the floor script failed")
            floors.append(floor.seconds)
            bare_floors.append(bare.seconds)
            data = Path(tmp) / "data"
            result = run(
                [str(LEADFLOW), "import", str(source), "--json"],
                env=environment(LEADFLOW_DATA_DIR=str(data)),
            )
            if result.returncode != 0:
                raise SystemExit(f"leadflow import failed with exit code {result.returncode}")
            summary = json.loads(result.stdout.strip().splitlines()[-1])
            imports.append(result.seconds)
            rss.append(result.peak_rss_mb)
            pss.append(result.peak_pss_mb)
            shutil.rmtree(data, ignore_errors=True)
    floor_s = statistics.median(floors)
    bare_s = statistics.median(bare_floors)
    import_s = statistics.median(imports)
    print(
        json.dumps(
            {
                "benchmark": "import",
                "rows": args.rows,
                "file_mb": round(source.stat().st_size / 1e6, 1),
                "runs": args.repeat,
                "floor_seconds": round(floor_s, 3),
                "bare_floor_seconds": round(bare_s, 3),
                "import_seconds": round(import_s, 3),
                "ratio_to_floor": round(import_s / floor_s, 2),
                "ratio_to_bare_floor": round(import_s / bare_s, 2),
                "leads_per_second": round(args.rows / import_s),
                "peak_rss_mb": round(max(rss), 1),
                "peak_pss_mb": round(max(pss), 1),
                "all_import_seconds": [round(s, 3) for s in imports],
                "all_floor_seconds": [round(s, 3) for s in floors],
                "all_bare_floor_seconds": [round(s, 3) for s in bare_floors],
                "summary": {k: summary.get(k) for k in COUNTS},
            }
        )
    )


if __name__ == "__main__":
    main()
