"""Prometheus metrics of the job system: queue and DLQ depth, batches, job durations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

BATCHES = Counter("leadflow_batches_total", "Queued messages handled by workers", ["result"])
RESTARTS = Counter(
    "leadflow_component_restarts_total",
    "Restarts of supervised loops after a failure",
    ["component"],
)
JOB_SECONDS = Histogram(
    "leadflow_job_seconds",
    "Time from a job's start to its completion",
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)


class QueueDepthCollector(Collector):
    """Reads the depths at scrape time, so every process serving /metrics agrees."""

    def __init__(self) -> None:
        self.queue: Any = None
        self.dead_letters: Any = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.queue is None or self.dead_letters is None:
            return
        yield GaugeMetricFamily(
            "leadflow_queue_depth", "Messages waiting or leased", value=self.queue.depth()
        )
        yield GaugeMetricFamily(
            "leadflow_dlq_depth",
            "Messages in the dead-letter queue",
            value=self.dead_letters.depth(),
        )


QUEUE_DEPTH = QueueDepthCollector()
REGISTRY.register(QUEUE_DEPTH)
