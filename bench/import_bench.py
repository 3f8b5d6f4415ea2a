"""Benchmark: `leadflow import --json` on a messy CSV, as a whole process, beside the floor.

Prints one JSON object: import and floor wall times (median of --repeat runs), their
ratio, leads/s, and the peak RSS of the import's whole process tree.

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
    floors, imports, rss, summary = [], [], [], {}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            floor = run([str(PYTHON), str(ROOT / "bench" / "floor.py"), str(source), f"{tmp}/f.db"])
            floors.append(floor.seconds)
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
            shutil.rmtree(data, ignore_errors=True)
    floor_s = statistics.median(floors)
    import_s = statistics.median(imports)
    print(
        json.dumps(
            {
                "benchmark": "import",
                "rows": args.rows,
                "file_mb": round(source.stat().st_size / 1e6, 1),
                "runs": args.repeat,
                "floor_seconds": round(floor_s, 3),
                "import_seconds": round(import_s, 3),
                "ratio_to_floor": round(import_s / floor_s, 2),
                "leads_per_second": round(args.rows / import_s),
                "peak_rss_mb": round(max(rss), 1),
                "all_import_seconds": [round(s, 3) for s in imports],
                "all_floor_seconds": [round(s, 3) for s in floors],
                "summary": {k: summary.get(k) for k in COUNTS},
            }
        )
    )


if __name__ == "__main__":
    main()
