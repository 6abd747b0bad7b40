"""Run every benchmark script in sequence; exit non-zero if any fails.

    python benchmarks/run_all.py            # full runs (several minutes)
    python benchmarks/run_all.py --quick    # smoke run: each script finishes in seconds (a minute or two
                                            # for bench_quickstart / bench_compile, which build the corpus)
    python benchmarks/run_all.py --wait-quiet 20   # each script that can, waits for a quiet machine first

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
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="S", help="pass to the scripts that take it")
    args = parser.parse_args()

    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"## {script.name}{' --quick' if args.quick else ''}", flush=True)
        t0 = time.perf_counter()
        flags = ["--quick"] * args.quick
        if args.wait_quiet and "--wait-quiet" in script.read_text():
            flags += ["--wait-quiet", str(args.wait_quiet)]
        rc = subprocess.run([sys.executable, str(script)] + flags).returncode
        status = "ok" if rc == 0 else f"FAILED (exit {rc})"
        print(f"-- {script.name}: {status} in {time.perf_counter() - t0:.1f} s\n", flush=True)
        if rc:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
