"""Benchmark: 1,000 leads through the LLM provider against a loopback chat-completions
peer that answers each call after 1 s, beside seed 004's one-batch-at-a-time approach,
and again with the peer enforcing a concurrency cap (429 above it).

The one-at-a-time figure is measured on 100 leads (10 calls) and scaled to 1,000.

    .venv/bin/python bench/llm_bench.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))

from chat_peer import ChatScript, chat_peer  # noqa: E402

from leadflow.providers.client import ProviderClient  # noqa: E402
from leadflow.providers.llm import LlmProvider  # noqa: E402
from leadflow.settings import Settings  # noqa: E402


def rows(count: int) -> list[dict[str, str]]:
    return [
        {"Full Name": f"Lead {n}", "Mail": f"lead{n}@example.com", "Org": "Acme"}
        for n in range(count)
    ]


def run(count: int, concurrency: int, cap: int | None, delay: float) -> dict[str, object]:
    script = ChatScript(delay=delay, cap=cap)
    with chat_peer(script) as url:
        client = ProviderClient("llm", concurrency=concurrency, timeout=30, attempts=8)
        provider = LlmProvider(client, url, "deepseek-chat", None, concurrency)
        started = time.perf_counter()
        leads = provider.enrich_batch(rows(count))
        seconds = time.perf_counter() - started
    assert len(leads) == count and all(lead["email"] for lead in leads)
    return {
        "seconds": round(seconds, 2),
        "calls": script.calls,
        "max_in_flight": script.max_in_flight,
        "rejected_429": script.rejected,
        "rejected_429_sent_after_the_first": client.late_429s,
        "final_limit": client.limit.limit,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--cap", type=int, default=4)
    args = parser.parse_args()
    default = Settings().provider_concurrency
    one_at_a_time = run(100, 1, None, args.delay)
    scaled = float(one_at_a_time["seconds"]) * args.leads / 100  # type: ignore[arg-type]
    parallel = run(args.leads, default, None, args.delay)
    capped = run(args.leads, default, args.cap, args.delay)
    print(
        json.dumps(
            {
                "benchmark": "llm_provider",
                "leads": args.leads,
                "peer_delay_s": args.delay,
                "default_concurrency": default,
                "one_batch_at_a_time_100_leads": one_at_a_time,
                "one_batch_at_a_time_seconds_scaled": round(scaled, 1),
                "parallel": parallel,
                "speedup": round(scaled / float(parallel["seconds"]), 1),  # type: ignore[arg-type]
                "peer_cap": args.cap,
                "parallel_with_cap": capped,
                "targets": {"speedup_min": 10, "rejected_429_sent_after_the_first": 0},
            }
        )
    )


if __name__ == "__main__":
    main()
