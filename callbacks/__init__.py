"""Lightning callbacks: throughput, matched budgets, binding gap, hard-negative probes, attribution."""

from .attribution import AttributionMonitor
from .binding import BindingGapMonitor
from .budget import BudgetStop
from .probes import ProbeSuite
from .throughput import ByteThroughputMonitor

__all__ = ["AttributionMonitor", "BindingGapMonitor", "BudgetStop", "ByteThroughputMonitor", "ProbeSuite"]
