"""Benchmark: how long `sdg16 --help` and every command's `--help` take to start, beside `python -c pass`.

Target (issue 12): under 1 s each. The commands import their modules when they run (sdg16/cli.py), so these
figures are Python's start, Typer and the one group a command needs. Each is the median of `--repeat` runs in a
fresh interpreter, from the repository root; the load average is printed with them (the machine is shared).

    python benchmarks/cli_startup.py --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sdg16.cli import COMMANDS


def seconds(arguments: list[str], repeat: int) -> float:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, *arguments], cwd=ROOT, env=environment, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    baseline = seconds(["-c", "pass"], args.repeat)
    print(f"python -c pass              {baseline:.3f} s")
    for label, arguments in [("sdg16 --help", ["--help"])] + [(f"sdg16 {c} --help", [c, "--help"]) for c in COMMANDS]:
        took = seconds(["-m", "sdg16.cli", *arguments], args.repeat)
        print(f"{label:<27} {took:.3f} s  (+{took - baseline:.3f} s over python -c pass)")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
