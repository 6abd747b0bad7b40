"""One line describing the machine and versions, for every benchmark table; and a wait for a
quiet machine (these 2-core machines are shared: a concurrent pytest slows a run up to 15×)."""

import os
import platform
import time

import torch


def describe() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"Python {platform.python_version()}"
    )


def _cpu_ticks() -> dict[int, int]:
    """user + system clock ticks of every other process (ours and our children excluded)."""
    ticks, me = {}, os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:  # ppid
            continue
        ticks[int(name)] = int(fields[11]) + int(fields[12])
    return ticks


def busiest_other(seconds: float = 2.0) -> float:
    """The largest share of one core any other process used over the next ``seconds``."""
    hz = os.sysconf("SC_CLK_TCK")
    before = _cpu_ticks()
    time.sleep(seconds)
    after = _cpu_ticks()
    return max((after[p] - before.get(p, after[p])) / hz / seconds for p in after) if after else 0.0


def wait_for_quiet(quiet_s: float = 20, threshold: float = 0.15, timeout_s: float = 1800) -> str:
    """Block until no other process used more than ``threshold`` of a core for ``quiet_s``
    seconds in a row (or ``timeout_s`` passed); returns a note for the benchmark's header."""
    if quiet_s <= 0 or not os.path.isdir("/proc"):
        return "no wait for a quiet machine"
    t0 = quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < quiet_s:
        if time.monotonic() - t0 > timeout_s:
            return f"machine not quiet after {timeout_s:.0f} s; ran anyway"
        if busiest_other() > threshold:
            quiet_since = time.monotonic()
    waited = time.monotonic() - t0
    return f"started after {quiet_s:.0f} s with no other process above {threshold:.0%} CPU (waited {waited:.0f} s)"


class OthersMeter:
    """How many cores other processes used, on average, from construction to ``read()``: the
    honest footnote to a timing on a shared machine (0.0 = it had the machine alone)."""

    def __init__(self):
        self.t0, self.before = time.monotonic(), _cpu_ticks()

    def read(self) -> float:
        after, hz = _cpu_ticks(), os.sysconf("SC_CLK_TCK")
        used = sum(t - self.before.get(p, 0) for p, t in after.items())  # a process started meanwhile counts from 0
        return used / hz / max(time.monotonic() - self.t0, 1e-9)
