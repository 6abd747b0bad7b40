"""Lightning callbacks: throughput, checkpointing, matched budgets, probes, attribution."""

from .throughput import ByteThroughputMonitor

__all__ = ["ByteThroughputMonitor"]
