"""Benchmark: the probability-sample chain — drawing a round's plan, and weighting a round from its visit records
(final dispositions, base weights, non-response classes, raking, estimates) — ours vs R survey doing the same
steps (tests/golden/nonresponse.R, the golden script, on the same files).

The plan: `analysis.sampling.plan_sample` on the synthetic Trujillo frame (5,629 blocks, 20 areas) with the
shipped parameters. The round: tests/analysis/field_round.py (imported by path) on a frame of `--blocks` blocks in
each of three areas, `--interviews` completed interviews wanted per area (10 dwellings per block), every visit a
row. Ours: `analysis.pipeline.run` with tests/golden/nonresponse_plan.toml, run twice (without and with the fpc, as
the R script does both). R: the whole script in one `Rscript` call (start-up included; `library(survey)` is about
1 s of it). Both produce the same weights (the test suite checks it on the golden round).

    python benchmarks/sampling.py                     # defaults: 600 blocks per area, 1,500 interviews per area
    python benchmarks/sampling.py --no-r
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.pipeline import run
from analysis.plan import load_plan
from analysis.sampling import SampleSpec, plan_sample, read_frame
from sdg16.sample_commands import SHIPPED_PLAN


def _field_round():
    spec = importlib.util.spec_from_file_location("field_round", ROOT / "tests" / "analysis" / "field_round.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(function, repeat: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2], result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=600)
    parser.add_argument("--interviews", type=int, default=1500)
    parser.add_argument("--no-r", action="store_true")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}")
    frame = read_frame(
        pd.read_csv(ROOT / "data" / "frame_trujillo_synthetic.csv"), pd.read_csv(ROOT / "data" / "neighbourhoods.csv")
    )
    seconds, plan = timed(lambda: plan_sample(frame, SampleSpec(**SHIPPED_PLAN)), 5)
    print(
        f"plan: {len(frame):,} blocks in the frame → {len(plan.blocks)} drawn, {len(plan.assignments):,} dwellings: "
        f"{seconds:.3f} s (median of 5)"
    )

    fr = _field_round()
    blocks = fr.frame(blocks=args.blocks)
    dwellings, people = fr.population(blocks)
    drawn = plan_sample(
        read_frame(blocks),
        SampleSpec(per_block=6, response_rate=0.6, seed=1),
        sizes={a: args.interviews for a in ("a", "b", "c")},
    )
    visits = fr.field_round(drawn, dwellings, people, seed=2)
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        visits.to_csv(here / "nonresponse_input.csv", index=False)
        blocks.to_csv(here / "nonresponse_frame.csv", index=False)
        sex, age = fr.margins(people)
        sex.to_csv(here / "nonresponse_margins_sex.csv", index=False)
        age.to_csv(here / "nonresponse_margins_age.csv", index=False)
        text = (ROOT / "tests" / "golden" / "nonresponse_plan.toml").read_text()
        (here / "plan.toml").write_text(text)
        (here / "plan_fpc.toml").write_text(
            text.replace(
                'weight_from = "probabilities"', 'weight_from = "probabilities"\nfpc = "nonresponse_frame.csv"'
            )
        )
        plans = [load_plan(here / "plan.toml"), load_plan(here / "plan_fpc.toml")]
        responses = pd.read_csv(here / "nonresponse_input.csv", dtype=str)
        seconds, results = timed(lambda: [run(p, responses) for p in plans])
        n = len(results[0].analysis_data)
        print(
            f"weights + estimates: {len(visits):,} visit records, {len(drawn.blocks)} blocks, {n:,} respondents: "
            f"ours {seconds:.2f} s (both designs, median of 3)",
            end="",
        )
        if args.no_r or shutil.which("Rscript") is None:
            print("; R skipped")
            return
        start = time.perf_counter()
        subprocess.run(["Rscript", str(ROOT / "tests" / "golden" / "nonresponse.R"), str(here)], check=True, cwd=ROOT)
        r_seconds = time.perf_counter() - start
        r = pd.read_csv(here / "nonresponse_weights.csv").set_index("instance_id")
        ours = results[0].microdata.set_index("instance_id")["weight"]
        worst = float(((ours[r.index] - r["raked"]).abs() / r["raked"]).max())
        print(f"; R survey {r_seconds:.2f} s (one Rscript run, start-up included); weights agree to {worst:.1e}")


if __name__ == "__main__":
    main()
