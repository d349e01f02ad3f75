"""Benchmark: weights + every indicator × every breakdown with SE and CI, ours vs svy, samplics and R survey.

The work: make the design (20 neighbourhood strata, ~100 respondents per PSU), rake to neighbourhood × sex and
neighbourhood × age group, then 25 binary indicators × 10 breakdowns (overall + neighbourhood, sex, age group,
disability, education, and neighbourhood × each of the last four) = 7,875 domain estimates with SE, deff, df and a
logit CI (benchmarks/analysis_synthetic.py makes the data). Each engine runs in its own subprocess (peak RSS
from getrusage). svy and samplics are called one estimate at a time (one indicator × one breakdown per call) on
one indicator and the time is multiplied by 25; R is timed on one indicator (all breakdowns at 10k, a subset at
larger sizes) and extrapolated per domain estimate. Each comparison also reports the largest relative difference
of its estimates and SEs from ours on the work it did.

    python benchmarks/analysis_pipeline.py                      # 10k, 100k, 1M; R at 10k and 100k
    python benchmarks/analysis_pipeline.py --sizes 10000 --no-r

"plan" also times the whole SDG 16 plan (recode, margins, raking, every indicator, counts and flags) with the
analysis-plan developer's pipeline on their synthetic submissions, for the full-pipeline figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import analysis_synthetic as synthetic  # noqa: E402

from analysis.design import make_design  # noqa: E402
from analysis.estimate import proportions_many  # noqa: E402
from analysis.weights import rake  # noqa: E402

DOMAINS_PER_INDICATOR = None  # filled in from our own output


def ours(n: int) -> dict:
    frame = synthetic.responses(n)
    margins = synthetic.margins(frame)
    before = _maxrss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    design = make_design(frame, "neighbourhood", "psu", "design_weight")
    raked = rake(design, margins, epsilon=1e-12)
    rake_s = time.perf_counter() - wall
    table = proportions_many(raked, synthetic.indicators(), by=synthetic.breakdown_specs(), ci="logit")
    return {
        "engine": "ours",
        "n": n,
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "rake_s": rake_s,
        "estimates": len(table),
        "psus": design.n_psu,
        "rss_before_mb": before,
        "peak_rss_mb": _maxrss_mb(),
    }


def plan_pipeline(n: int) -> dict:
    """The whole SDG 16 plan (analysis/pipeline.py: recode + margins + rake + every indicator and breakdown +
    counts and flags) on the analysis-plan developer's synthetic submissions (tests/analysis/synthetic.py)."""
    sys.path.insert(0, str(HERE.parent / "tests" / "analysis"))
    from synthetic import synthetic_submissions

    from analysis.pipeline import run
    from analysis.plan import load_plan

    submissions = synthetic_submissions(n, seed=3)
    plan = load_plan(HERE.parent / "analysis" / "plans" / "sdg16.toml")
    before = _maxrss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    result = run(plan, submissions)
    return {
        "engine": "whole plan (analysis.pipeline.run on synthetic submissions)",
        "n": n,
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "estimates": len(result.estimates),
        "rss_before_mb": before,
        "peak_rss_mb": _maxrss_mb(),
    }


def _reference_table(n: int, calibrated: bool = True) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    frame = synthetic.responses(n)
    design = rake(make_design(frame, "neighbourhood", "psu", "design_weight"), synthetic.margins(frame), epsilon=1e-12)
    if not calibrated:  # the raked weights taken as fixed design weights (what samplics can do)
        design = make_design(frame.assign(w=design.weights), "neighbourhood", "psu", "w")
    return frame, design.weights, proportions_many(design, ["y00"], by=synthetic.breakdown_specs())


def svy_one_at_a_time(n: int) -> dict:
    import polars as pl
    import svy

    frame = synthetic.responses(n)
    sex, age = synthetic.margins(frame)
    data = pl.from_pandas(frame).with_columns(
        (pl.col("neighbourhood") + "|" + pl.col("sex")).alias("nsex"),
        (pl.col("neighbourhood") + "|" + pl.col("age_group")).alias("nage"),
    )
    controls = {
        "nsex": {f"{r.neighbourhood}|{r.sex}": r.population for r in sex.itertuples()},
        "nage": {f"{r.neighbourhood}|{r.age_group}": r.population for r in age.itertuples()},
    }
    before = _maxrss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    sample = svy.Sample(data, svy.Design(stratum="neighbourhood", psu="psu", wgt="design_weight"))
    sample = sample.weighting.rake(controls=controls, wgt_name="rk", tol=1e-12, max_iter=200)
    rake_s, rake_cpu = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    results = []
    for spec in [None, *synthetic.breakdown_specs()]:
        by = None if spec is None else spec
        result = sample.estimation.prop("y00", by=by, drop_nulls=True, ci_method="logit", deff="wor")
        results.append(result.to_polars().to_pandas())
    per_indicator, per_indicator_cpu = time.perf_counter() - start, time.process_time() - cpu
    _, _, reference = _reference_table(n)
    est_diff, se_diff = _compare_svy(results, reference)
    return {
        "engine": "svy 0.35 (one estimate per call)",
        "n": n,
        "rake_s": rake_s,
        "wall_s": rake_s + per_indicator * synthetic.N_INDICATORS,
        "cpu_s": rake_cpu + per_indicator_cpu * synthetic.N_INDICATORS,
        "extrapolated": f"timed 1 indicator × 10 breakdowns ({per_indicator:.2f} s), ×{synthetic.N_INDICATORS}",
        "max_rel_diff_estimate": est_diff,
        "max_rel_diff_se": se_diff,
        "rss_before_mb": before,
        "peak_rss_mb": _maxrss_mb(),
    }


def _compare_svy(results: list[pd.DataFrame], reference: pd.DataFrame) -> tuple[float, float]:
    ours_ = reference.assign(key=_keys(reference))
    est, se = [], []
    for spec, result in zip([None, *synthetic.breakdown_specs()], results):
        result = result[result["y00"] == 1.0]
        if spec is None:
            keys = pd.Series(["None|all"] * len(result))
            mine = ours_[ours_["by"] == "overall"]
        elif isinstance(spec, str):
            keys = "None|" + result[spec].astype(str)
            mine = ours_[(ours_["by"] == spec) & ours_["area"].isna()]
        else:
            keys = result[spec[0]].astype(str) + "|" + result[spec[1]].astype(str)
            mine = ours_[(ours_["by"] == spec[1]) & ours_["area"].notna()]
        mine = mine.set_index("key").loc[keys.to_numpy()]
        est.append(np.abs(result["est"].to_numpy() / mine["estimate"].to_numpy() - 1))
        se.append(np.abs(result["se"].to_numpy() / mine["se"].to_numpy() - 1))
    return float(np.nanmax(np.concatenate(est))), float(np.nanmax(np.concatenate(se)))


def samplics_one_at_a_time(n: int) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    from samplics.estimation import TaylorEstimator
    from samplics.utils.types import PopParam

    frame, weights, reference = _reference_table(n, calibrated=False)
    before = _maxrss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    rows = []
    y = frame["y00"].to_numpy()
    keep = ~np.isnan(y)
    for spec in [None, *synthetic.breakdown_specs()]:
        if spec is None:
            domain = None
        elif isinstance(spec, str):
            domain = frame[spec].to_numpy()[keep]
        else:
            domain = (frame[spec[0]] + "|" + frame[spec[1]]).to_numpy()[keep]
        estimator = TaylorEstimator(PopParam.prop)
        estimator.estimate(
            y[keep], samp_weight=weights[keep], stratum=frame["neighbourhood"].to_numpy()[keep],
            psu=frame["psu"].to_numpy()[keep], domain=domain, remove_nan=True,
        )
        rows.append(estimator)
    per_indicator, per_indicator_cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "engine": "samplics 0.6 (one estimate per call; no calibration-aware variance)",
        "n": n,
        "wall_s": per_indicator * synthetic.N_INDICATORS,
        "cpu_s": per_indicator_cpu * synthetic.N_INDICATORS,
        "extrapolated": f"timed 1 indicator × 10 breakdowns ({per_indicator:.2f} s), ×{synthetic.N_INDICATORS}; "
        "rows with a missing answer dropped before the call (samplics' way), raked weights as fixed weights",
        "overall_estimate_vs_ours": float(abs(rows[0].point_est[1.0] / reference["estimate"][0] - 1)),
        "overall_se_vs_ours_fixed_weights": float(abs(rows[0].stderror[1.0] / reference["se"][0] - 1)),
        "rss_before_mb": before,
        "peak_rss_mb": _maxrss_mb(),
    }


R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(TRUE)
d <- read.csv(args[1]); m_sex <- read.csv(args[2]); m_age <- read.csv(args[3])
names(m_sex)[3] <- "Freq"; names(m_age)[3] <- "Freq"
specs <- strsplit(strsplit(args[4], ";")[[1]], ",")
t0 <- Sys.time(); c0 <- sum(proc.time()[c("user.self", "sys.self")])
des <- svydesign(ids = ~psu, strata = ~neighbourhood, weights = ~design_weight, nest = TRUE, data = d)
des <- rake(des, list(~neighbourhood + sex, ~neighbourhood + age_group), list(m_sex, m_age),
            control = list(maxit = 100, epsilon = 1e-12))
t1 <- Sys.time(); c1 <- sum(proc.time()[c("user.self", "sys.self")])
out <- list(); domains <- 0
for (s in specs) {
  sub <- subset(des, !is.na(y00))
  if (s[1] == "overall") {
    r <- svyciprop(~y00, sub, method = "xlogit", na.rm = TRUE)
    out[[length(out) + 1]] <- data.frame(by = "overall", key = "None|all", estimate = as.numeric(coef(r)),
                                         se = as.numeric(SE(r)))
    domains <- domains + 1
  } else {
    f <- as.formula(paste("~", paste(s, collapse = "+")))
    r <- svyby(~y00, f, sub, svyciprop, method = "xlogit", vartype = c("se", "ci"), na.rm = TRUE)
    key <- if (length(s) == 1) paste0("None|", r[[s[1]]]) else paste0(r[[s[1]]], "|", r[[s[2]]])
    out[[length(out) + 1]] <- data.frame(by = s[length(s)], key = key, estimate = r$y00, se = SE(r))
    domains <- domains + nrow(r)
  }
}
t2 <- Sys.time(); c2 <- sum(proc.time()[c("user.self", "sys.self")])
write.csv(do.call(rbind, out), args[5], row.names = FALSE)
cat(as.numeric(t1 - t0, units = "secs"), as.numeric(t2 - t1, units = "secs"), c1 - c0, c2 - c1, domains, "\n")
"""


def r_survey(n: int, specs: list) -> dict:
    frame = synthetic.responses(n)
    sex, age = synthetic.margins(frame)
    work = Path(tempfile.mkdtemp())
    try:
        paths = [work / name for name in ("d.csv", "sex.csv", "age.csv", "out.csv", "bench.R")]
        frame.to_csv(paths[0], index=False)
        sex.to_csv(paths[1], index=False)
        age.to_csv(paths[2], index=False)
        paths[4].write_text(R_SCRIPT)
        spec_arg = ";".join("overall" if s is None else (s if isinstance(s, str) else ",".join(s)) for s in specs)
        done = subprocess.run(
            ["Rscript", str(paths[4]), str(paths[0]), str(paths[1]), str(paths[2]), spec_arg, str(paths[3])],
            capture_output=True, text=True, check=True,
        )
        rake_s, estimate_s, rake_cpu, estimate_cpu, domains = (float(x) for x in done.stdout.split())
        r_table = pd.read_csv(paths[3])
    finally:
        shutil.rmtree(work)
    _, _, reference = _reference_table(n)
    reference = reference.assign(key=_keys(reference))
    both = r_table.merge(reference, on=["by", "key"], suffixes=("_r", ""))
    total_domains = len(reference) * synthetic.N_INDICATORS
    return {
        "engine": "R survey 4.1.1 (svyby + svyciprop xlogit)",
        "n": n,
        "rake_s": rake_s,
        "wall_s": rake_s + estimate_s / domains * total_domains,
        "cpu_s": rake_cpu + estimate_cpu / domains * total_domains,
        "extrapolated": f"timed {int(domains)} domain estimates of 1 indicator ({estimate_s:.2f} s), "
        f"scaled to {total_domains}",
        "max_rel_diff_estimate": float(np.max(np.abs(both["estimate_r"] / both["estimate"] - 1))),
        "max_rel_diff_se": float(np.max(np.abs(both["se_r"] / both["se"] - 1))),
        "compared_rows": len(both),
    }


def _keys(table: pd.DataFrame) -> pd.Series:
    area = table["area"].astype(object).where(table["area"].notna(), "None")
    return area.astype(str) + "|" + table["group"].astype(str)


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_worker(engine: str, n: int) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", engine, str(n)], capture_output=True, text=True, check=False
    )
    if done.returncode:
        return {"engine": engine, "n": n, "error": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--r-sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--no-r", action="store_true")
    parser.add_argument("--no-svy", action="store_true")
    parser.add_argument("--no-plan", action="store_true")
    parser.add_argument("--samplics-sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--worker", nargs=2)
    args = parser.parse_args()
    if args.worker:
        engine, n = args.worker[0], int(args.worker[1])
        if engine == "r":
            specs = [None, *synthetic.breakdown_specs()] if n <= 10_000 else [None, "sex", "neighbourhood"]
            specs = specs if n < 1_000_000 else [None, "sex"]
            print(json.dumps(r_survey(n, specs)))
        else:
            workers = {"ours": ours, "plan": plan_pipeline, "svy": svy_one_at_a_time}
            workers["samplics"] = samplics_one_at_a_time
            print(json.dumps(workers[engine](n)))
        return
    print(f"load average before: {os.getloadavg()}")
    for n in args.sizes:
        engines = ["ours"] + ([] if args.no_plan else ["plan"]) + ([] if args.no_svy else ["svy"])
        engines += ["samplics"] if n in args.samplics_sizes else []
        engines += ["r"] if (not args.no_r and n in args.r_sizes and shutil.which("Rscript")) else []
        results = {engine: _run_worker(engine, n) for engine in engines}
        base, base_cpu = results["ours"].get("wall_s"), results["ours"].get("cpu_s")
        for engine, result in results.items():
            compared = base and "wall_s" in result and engine not in ("ours", "plan")
            ratio = f"  ({result['wall_s'] / base:.0f}× ours wall, {result['cpu_s'] / base_cpu:.0f}× cpu)"
            ratio = ratio if compared else ""
            print(json.dumps(result) + ratio)
        print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
