"""Lightning callbacks: throughput, binding gap, hard-negative probes."""

from .binding import BindingGapMonitor
from .probes import ProbeSuite
from .throughput import ByteThroughputMonitor

__all__ = ["BindingGapMonitor", "ByteThroughputMonitor", "ProbeSuite"]
