"""Time one build of the embedded demo corpus into a fresh temporary folder (removed after):
wall seconds and this process's CPU seconds, the imports included.

    OMP_NUM_THREADS=1 python scripts/demo_build_time.py

Run it with PYTHONPATH at another checkout to time that checkout's corpus (the script only
imports ``datamodules.demo_corpus``).
"""

from __future__ import annotations

import resource
import shutil
import tempfile
import time

start = time.perf_counter()

from datamodules.demo_corpus import DEMO_VERSION, demo_corpus  # noqa: E402 (timed with the build)


def main() -> None:
    root = tempfile.mkdtemp(prefix="holozero-demo-build-")
    try:
        demo_corpus(root)
        wall = time.perf_counter() - start
        usage = resource.getrusage(resource.RUSAGE_SELF)
        print(f"{DEMO_VERSION}: wall {wall:.1f} s, cpu {usage.ru_utime + usage.ru_stime:.1f} s (imports + build)")
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
