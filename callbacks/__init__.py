"""Lightning callbacks: thin hooks over the algorithms in holozero/ and models/ — run facts,
run status, the last-and-best checkpoint, throughput, matched budgets, binding gap,
hard-negative probes, attribution."""

from .attribution import AttributionMonitor
from .binding import BindingGapMonitor
from .budget import BudgetStop
from .fit_summary import FitSummary
from .last_checkpoint import LastAndBestCheckpoint
from .probes import ProbeSuite
from .run_facts import RunFacts
from .run_status import RunStatus
from .throughput import ByteThroughputMonitor

__all__ = [
    "AttributionMonitor",
    "BindingGapMonitor",
    "BudgetStop",
    "ByteThroughputMonitor",
    "FitSummary",
    "LastAndBestCheckpoint",
    "ProbeSuite",
    "RunFacts",
    "RunStatus",
]
