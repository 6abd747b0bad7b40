"""What the campaign runs and in which order, and how long each run is predicted to take.

The runs are a ``holozero sweep`` spec (so ``holozero report`` reads the returned archive as it
reads any sweep): the five arms at K=8 (the per-byte baseline at K=1, as ``sweep.BASELINES``
makes it), on the main schedule and on the 4x one, over seeds. They are queued by priority:
the first seeds on the main schedule, then the 4x schedule, then more seeds; the scheduler
starts the first queued run that is predicted to finish before the deadline.

A run's predicted time comes from the probe's measured step time at the chosen number of
runs at once, its start-up and validation pass, and the test + evaluate time (a prior until
a finished run measures it); finished runs correct every later prediction by the largest
ratio of observed to predicted time seen so far.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from holozero.commands.sweep import BASELINES, expand, load_spec, run_id

from .settings import Settings

ROOT = Path(__file__).resolve().parents[2]
LONG, MAIN = "long", "main"
FLOOR = 0.5  # finished runs may halve the predictions at most: one fast run is not the whole queue
# A kind of run none has finished yet is predicted at twice the sum of its measured parts: the CPU
# dry run's first per-byte fit took 1.55x that sum (its validation's binding and epoch-end work is
# not in the probe's timed validation pass), and a run that overruns is killed, its time lost.
UNSEEN = 2.0


def schedule_of(configs: list[str]) -> tuple[int, int]:
    """(max_steps, val_check_interval) of stacked configs: the last one that sets each wins."""
    steps = every = None
    for path in configs:
        trainer = (yaml.safe_load(Path(path).read_text()) or {}).get("trainer") or {}
        steps = trainer.get("max_steps", steps)
        every = trainer.get("val_check_interval", every)
    if not isinstance(steps, int) or not isinstance(every, int) or steps < 1 or every < 1:
        raise ValueError(f"configs {configs} must set trainer.max_steps and an integer trainer.val_check_interval")
    return steps, every


def write_spec(settings: Settings, work: Path) -> dict:
    """The campaign's sweep spec, written to ``work/campaign_spec.yaml`` and read back through
    ``holozero sweep``'s own loader (paths checked, doors known, the baseline's K enforced)."""
    packed = [a for a in settings.arms if a not in BASELINES]
    baselines = [a for a in settings.arms if a in BASELINES]
    seeds = sorted({*settings.first_seeds, *settings.more_seeds})
    long_configs = [str(ROOT / c) for c in settings.long_configs]
    grids = []
    for configs, grid_seeds in (([], seeds), (long_configs, list(settings.long_seeds))):
        if packed:
            grids.append({"door": packed, "K": [8], "configs": [configs], "seed": grid_seeds})
        for name in baselines:
            grids.append({"door": [name], "K": [BASELINES[name][2]], "configs": [configs], "seed": grid_seeds})
    spec = {
        "base": [str(ROOT / c) for c in settings.configs],
        "args": ["--trainer.precision", settings.precision],
        "grids": grids,
        "reference": {"door": "zero", "K": 8},
        "test": True,
        "evaluate": False,  # the campaign runs evaluate itself, on the device (holozero evaluate --device)
    }
    work.mkdir(parents=True, exist_ok=True)
    path = work / "campaign_spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return load_spec(path)


@dataclass(frozen=True)
class Job:
    run: dict
    schedule: str  # MAIN or LONG
    steps: int
    val_every: int

    @property
    def id(self) -> str:
        return run_id(self.run)

    @property
    def kind(self) -> str:
        """``per_byte`` (every window byte a position: a slower step) or ``packed``."""
        return "per_byte" if self.run["door"] in BASELINES else "packed"

    @property
    def val_passes(self) -> int:
        return self.steps // self.val_every + 1  # + the sanity check


def queue(spec: dict, settings: Settings) -> list[Job]:
    """Every run of the spec as a Job, in priority order."""
    main = schedule_of(spec["base"])
    jobs = []
    for run in expand(spec):
        schedule = LONG if run.get("configs") else MAIN
        steps, every = schedule_of(spec["base"] + list(run.get("configs") or [])) if schedule == LONG else main
        jobs.append(Job(run, schedule, steps, every))

    def priority(job: Job) -> tuple:
        seed, arm = job.run["seed"], settings.arms.index(job.run["door"])
        if job.schedule == LONG:
            return (1, seed, arm)
        return (0 if seed in settings.first_seeds else 2, seed, arm)

    return sorted(jobs, key=priority)


@dataclass
class Rates:
    """Measured times the predictions are made of (seconds)."""

    step_s: dict  # kind -> seconds per training step at the planned number of runs at once
    startup_s: float  # process start to the first training step
    val_pass_s: float  # one full validation pass
    post_s: float  # test + evaluate of one run (a prior until a run measures it)
    factor: float = 1.0  # largest observed / predicted fit time of the finished runs (≥ FLOOR)
    ratios: dict = field(default_factory=dict)  # kind -> observed / predicted fit times
    posts: dict = field(default_factory=dict)  # kind -> observed test + evaluate times

    def fit_s(self, job: Job) -> float:
        return self.startup_s + job.steps * self.step_s[job.kind] + job.val_passes * self.val_pass_s

    def factor_of(self, kind: str) -> float:
        """The correction of a kind's fit time: the largest ratio its own finished runs showed
        (a faster run halves it at most); a kind none has finished yet gets ``UNSEEN`` or the
        largest ratio any run showed (a per-byte run is not as quick as the packed runs that
        finished before it); before any run has finished, ``factor``."""
        if self.ratios.get(kind):
            return max([FLOOR, *self.ratios[kind]])
        seen = [r for ratios in self.ratios.values() for r in ratios]
        return max([UNSEEN, *seen]) if seen else self.factor

    def post_of(self, kind: str) -> float:
        seen = [p for posts in self.posts.values() for p in posts]
        return max(self.posts[kind]) if self.posts.get(kind) else max([self.post_s, *seen])

    def predict_s(self, job: Job) -> float:
        return self.factor_of(job.kind) * self.fit_s(job) + self.post_of(job.kind)

    def observe(self, job: Job, fit_s: float, post_s: float | None) -> None:
        """A finished run corrects every later prediction of its kind: its fit against the
        measured rates (the largest ratio seen so far is kept, and no run lowers them by more
        than half) and its test + evaluate (the longest so far)."""
        self.ratios.setdefault(job.kind, []).append(fit_s / self.fit_s(job))
        self.factor = max([FLOOR, *self.ratios[job.kind]])
        if post_s is not None:
            self.posts.setdefault(job.kind, []).append(post_s)
            self.post_s = max(self.posts[job.kind])


def throughput(phase: list[dict], alone: dict) -> float:
    """Work per second of one probe phase, in steps of a packed run alone: each worker's steps
    per second weighted by its kind's cost alone (a per-byte step counts as several)."""
    return sum(alone[w["kind"]] / alone["packed"] / w["step_s"] for w in phase)


def choose_level(levels: dict[int, list[dict]], alone: dict, gain: float = 1.05) -> tuple[int, dict]:
    """(runs at once, throughput per level): the smallest level within ``gain`` of none better,
    i.e. more runs at once only where they raise throughput by more than 5%."""
    rates = {level: throughput(phase, alone) for level, phase in sorted(levels.items()) if phase}
    best = min(rates)
    for level, rate in sorted(rates.items()):
        if rate > rates[best] * gain:
            best = level
    return best, rates


def step_times(levels: dict[int, list[dict]], alone: dict, level: int) -> dict:
    """kind -> seconds per step at ``level`` runs at once. A kind the level's phase did not run
    is scaled from its time alone by the packed runs' slowdown at that level."""
    phase = levels[level]
    by_kind = {}
    for kind in alone:
        times = [w["step_s"] for w in phase if w["kind"] == kind]
        by_kind[kind] = sum(times) / len(times) if times else None
    slowdown = (by_kind.get("packed") or alone["packed"]) / alone["packed"]
    return {k: v if v is not None else alone[k] * slowdown for k, v in by_kind.items()}


def compile_decision(eager_s: float, compiled_s: float | None, cost_s: float | None, steps: int, cap_s: float) -> dict:
    """Does ``torch.compile`` pay within one run? Each run process compiles for itself, so it
    pays only when its compile cost is below the step time it saves over a whole run."""
    whole = eager_s * steps
    if cost_s is None or compiled_s is None:
        reason = (
            f"not compiled within {cap_s:.1f} s beyond an eager start-up, while a whole run's eager steps take "
            f"{whole:.1f} s" + (": it cannot pay" if cap_s >= whole else ": not measured further, not used")
        )
        return {"pays": False, "reason": reason, "break_even_steps": None}
    gain = eager_s - compiled_s
    break_even = math.inf if gain <= 0 else cost_s / gain
    pays = break_even < steps
    reason = (
        f"compile costs {cost_s:.1f} s and saves {gain * 1e3:.2f} ms per step: break-even after "
        f"{break_even:.0f} steps, a run has {steps}"
        if gain > 0
        else f"compiled steps are not faster ({compiled_s * 1e3:.2f} vs {eager_s * 1e3:.2f} ms)"
    )
    return {"pays": pays, "reason": reason, "break_even_steps": None if math.isinf(break_even) else break_even}
