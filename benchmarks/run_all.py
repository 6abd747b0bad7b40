"""Run every benchmark script in sequence; exit non-zero if any fails.

    python benchmarks/run_all.py            # full runs (several minutes)
    python benchmarks/run_all.py --quick    # smoke run: each script finishes in seconds

Scripts are every ``bench_*.py`` next to this file, in name order.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="pass --quick to every script")
    args = parser.parse_args()

    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"## {script.name}{' --quick' if args.quick else ''}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.run([sys.executable, str(script)] + ["--quick"] * args.quick).returncode
        status = "ok" if rc == 0 else f"FAILED (exit {rc})"
        print(f"-- {script.name}: {status} in {time.perf_counter() - t0:.1f} s\n", flush=True)
        if rc:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
