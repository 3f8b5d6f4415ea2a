"""Benchmark: `leadflow import` against the pandas peer (bench/pandas_peer.py), side by side.

Both run as whole processes on the same realistic file (bench/messy_csv.py: mixed-case
emails with spaces, internationalized domains, US and UK phones in mixed formats,
malformed rows, duplicates), alternating, --repeat times each. Prints one JSON object
with both median wall times and their ratio (issue 8's target: at most 3x), and the CPU
seconds (user + system, the whole process tree) of each: on a shared, busy machine wall
times swing with the load, CPU times much less.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/import_vs_pandas.py --rows 100000
"""

from __future__ import annotations

import argparse
import json
import resource
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
COUNTS = ("received", "valid", "invalid", "duplicates", "created", "updated", "rowWarnings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cache = ROOT / "bench" / "out"
    cache.mkdir(parents=True, exist_ok=True)
    source = cache / f"realistic-{args.rows}.csv"
    if not source.exists():
        write_messy_csv(source, args.rows)
    peers: list[float] = []
    imports: list[float] = []
    peer_cpu: list[float] = []
    import_cpu: list[float] = []
    summary: dict[str, object] = {}
    peer_script = str(ROOT / "bench" / "pandas_peer.py")
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            before = _children_cpu()
            peer = run([str(PYTHON), peer_script, str(source), f"{tmp}/peer.db"])
            peer_cpu.append(_children_cpu() - before)
            if peer.returncode:
                raise SystemExit("the pandas peer failed (pip install -e '.[bench]'?)")
            peers.append(peer.seconds)
            data = Path(tmp) / "data"
            before = _children_cpu()
            result = run(
                [str(LEADFLOW), "import", str(source), "--json"],
                env=environment(LEADFLOW_DATA_DIR=str(data)),
            )
            import_cpu.append(_children_cpu() - before)
            if result.returncode != 0:
                raise SystemExit(f"leadflow import failed with exit code {result.returncode}")
            summary = json.loads(result.stdout.strip().splitlines()[-1])
            imports.append(result.seconds)
            shutil.rmtree(data, ignore_errors=True)
    peer_s = statistics.median(peers)
    import_s = statistics.median(imports)
    print(
        json.dumps(
            {
                "benchmark": "import_vs_pandas",
                "rows": args.rows,
                "file_mb": round(source.stat().st_size / 1e6, 1),
                "runs": args.repeat,
                "pandas_seconds": round(peer_s, 3),
                "import_seconds": round(import_s, 3),
                "ratio_to_pandas": round(import_s / peer_s, 2),
                "pandas_cpu_seconds": round(statistics.median(peer_cpu), 3),
                "import_cpu_seconds": round(statistics.median(import_cpu), 3),
                "cpu_ratio_to_pandas": round(
                    statistics.median(import_cpu) / statistics.median(peer_cpu), 2
                ),
                "all_pandas_seconds": [round(s, 3) for s in peers],
                "all_import_seconds": [round(s, 3) for s in imports],
                "summary": {k: summary.get(k) for k in COUNTS},
            }
        )
    )


def _children_cpu() -> float:
    """User + system seconds of every finished child process (and their children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
