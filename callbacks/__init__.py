"""Lightning callbacks: throughput, matched budgets, binding gap, hard-negative probes."""

from .binding import BindingGapMonitor
from .budget import BudgetStop
from .probes import ProbeSuite
from .throughput import ByteThroughputMonitor

__all__ = ["BindingGapMonitor", "BudgetStop", "ByteThroughputMonitor", "ProbeSuite"]
