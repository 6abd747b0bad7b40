"""The two settings of the campaign: the published one (a lent GPU) and its CPU dry run.

They differ only in values, never in code path: which configs are stacked (the dry run adds a
tiny body and a few steps), the precision (one setting; the dry run keeps 32-true until
bf16-mixed on CPU is supported, ``--precision`` overrides either), the probe's concurrency
levels and phase lengths, and the seeds queued.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

ARMS = ("zero", "hsl_proj", "byte_embed", "hash_ngram", "per_byte")  # the published table, DESIGN.md §6


@dataclass(frozen=True)
class Settings:
    name: str
    device: str  # "cuda" or "cpu"
    precision: str  # --trainer.precision of every fit (test and evaluate always score in fp32)
    configs: tuple[str, ...]  # stacked on every run, relative to the repository root
    long_configs: tuple[str, ...]  # stacked after them for the 4x schedule
    arms: tuple[str, ...] = ARMS
    first_seeds: tuple[int, ...] = (0, 1)
    long_seeds: tuple[int, ...] = (0,)
    more_seeds: tuple[int, ...] = (2, 3, 4, 5, 6, 7)
    levels: tuple[int, ...] = (1, 5, 10, 15)  # runs at once measured by the probe
    probe_warmup_steps: int = 30  # steps every probe worker takes before the timed phases
    probe_phase_s: float = 6.0  # length of one timed phase
    probe_ready_s: float = 150.0  # how long workers may take to start and warm up
    compile_cap_s: float = 120.0  # active compile time after which compile cannot pay here
    tests_timeout_s: float = 150.0
    safety: float = 1.15  # predicted run time is multiplied by this before it is planned
    reserve_s: float = 15.0  # kept at the end of the budget for the last archive and JSON
    post_prior_s: float = 20.0  # test and evaluate (side by side) of one run, until a run measures it
    # if the probe fails, the runs still go, planned from these pessimistic priors (and the
    # finished runs' correction); the deadline kill keeps the budget either way
    fallback_slots: int = 5
    fallback_step_s: dict = field(default_factory=lambda: {"packed": 0.1, "per_byte": 0.5})
    fallback_startup_s: float = 30.0
    fallback_val_pass_s: float = 5.0

    def with_precision(self, precision: str | None) -> Settings:
        return self if precision is None else replace(self, precision=precision)


PUBLISHED = Settings(
    name="published",
    device="cuda",
    precision="bf16-mixed",
    configs=("configs/zero_k8.yaml",),
    long_configs=("configs/gpu/published_4x.yaml",),
)

# The dry run: same code path on CPU, sized for ~1-2 minutes on 2 cores. Its runs are few
# (each process pays ~10 s of start-up and data setup there) and its numbers mean nothing.
DRY_RUN = Settings(
    name="dry-run",
    device="cpu",
    precision="32-true",  # bf16-mixed on CPU is being made to work elsewhere; then flip this
    configs=("configs/zero_k8.yaml", "configs/gpu/dry_run.yaml"),
    long_configs=("configs/gpu/dry_run_4x.yaml",),
    first_seeds=(0,),
    more_seeds=(1,),
    levels=(1, 2),
    probe_warmup_steps=2,
    probe_phase_s=1.0,
    probe_ready_s=90.0,
    compile_cap_s=8.0,
    tests_timeout_s=60.0,
    reserve_s=5.0,
    post_prior_s=45.0,  # measured here: test 30 s, evaluate 34-41 s (whole test split on one core)
)
