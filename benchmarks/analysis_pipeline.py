"""Benchmark: the full SDG 16 pipeline (recode + raking + every indicator × every breakdown with SE and CI), ours
vs svy, samplics and R survey doing the same estimates one at a time.

The work: `analysis.pipeline.run` with the default plan (analysis/plans/sdg16.toml) on synthetic submissions
shaped like `Store.submissions_frame` (tests/analysis/synthetic.py, imported by path: CONTRACT field names,
answers as pandas string columns, the form's skip logic, DK/refused, ~100 respondents per PSU). That is recode
(eligibility, age groups, disability, derived variables), plan checks, margins (cell collapsing), raking to
neighbourhood × sex and neighbourhood × age group, then 57 shares and 5 composites × 10 breakdowns (overall;
neighbourhood, sex, age group, youth, disability; neighbourhood × each of the last four) with estimate,
calibration-aware SE, deff, df, logit CI, excluded counts and flags. Each engine runs in its own subprocess;
peak memory is that process's ru_maxrss (the input frame is made in the same process: its size is shown apart).
The weighted microdata is assembled on first use, after the timed run: `microdata_s` is that access.

The peers get our recoded frame (the y columns and design columns the plan needs, with the collapsed raking
cells), so their figures leave recode out (in their favour). svy and samplics are called one estimate per call
(one indicator × one breakdown, all its groups): one indicator × 10 breakdowns is timed and multiplied by the
number of indicators. R is timed on one indicator (all breakdowns at 10k, fewer domains above) and scaled per
domain estimate: those totals are extrapolations, and the output says so. Each peer's numbers are compared with
our pipeline's on the work it did.

`--per-psu` sets the cluster size: ~100 respondents per PSU flatters the engine, a block sample has ~12 (the
variance step grows with the (PSU, group) pairs); both are reported by default.

    python benchmarks/analysis_pipeline.py                          # 10k, 100k, 1M × 100 and 12 per PSU
    python benchmarks/analysis_pipeline.py --sizes 10000 --no-r --per-psu 12
"""

from __future__ import annotations

import argparse
import importlib.util
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
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from analysis import pipeline  # noqa: E402
from analysis.plan import load_plan  # noqa: E402
from analysis.recode import recode  # noqa: E402

PLAN = load_plan(ROOT / "analysis" / "plans" / "sdg16.toml")
TIMED = "16.1.4"  # the indicator the peers are timed on (the whole population is its base)


NEIGHBOURHOODS = 20  # with respondents in the synthetic round (one more, poroto, has a single respondent)
PER_PSU = 100  # respondents per PSU; set by --per-psu for the workers


def submissions(n: int) -> pd.DataFrame:
    """The test suite's synthetic submissions (one generator for tests and benchmark), ~PER_PSU per PSU."""
    spec = importlib.util.spec_from_file_location("synthetic", ROOT / "tests" / "analysis" / "synthetic.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.synthetic_submissions(n, seed=3, blocks=max(4, round(n / (NEIGHBOURHOODS * PER_PSU))))


def ours(n: int) -> dict:
    frame = submissions(n)
    before = _maxrss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    result = pipeline.run(PLAN, frame)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    micro_wall = time.perf_counter()
    microdata = result.microdata  # assembled on first use (every submission column of the eligible rows)
    return {
        "engine": "ours (analysis.pipeline.run, default plan)",
        "n": n,
        "per_psu": PER_PSU,
        "wall_s": wall,
        "cpu_s": cpu,
        "microdata_s": time.perf_counter() - micro_wall,
        "rows": len(result.estimates),
        "indicators": result.estimates["indicator"].nunique(),
        "psus": int(microdata.groupby(["neighbourhood", "psu"]).ngroups),
        "input_frame_mb": frame.memory_usage(deep=True).sum() / 2**20,
        "rss_before_mb": before,
        "peak_rss_mb": _maxrss_mb(),
    }


def peer_work(n: int):
    """What the peers are given: our recoded frame (design columns, raking cells, the timed indicator's y as
    `y`), the margins as the pipeline uses them, the breakdowns, and our pipeline's rows for that indicator."""
    frame = submissions(n)
    result = pipeline.run(PLAN, frame)
    data = recode(frame, PLAN.recode).data
    margins, data, _ = pipeline.margins_for_sample(PLAN, data)
    data = pipeline.expand_to_strata(PLAN, data, margins)
    ys, _, _ = pipeline.indicator_columns(PLAN, data)
    columns = list(
        dict.fromkeys(
            [
                "neighbourhood",
                "psu",
                "design_weight",
                *PLAN.estimation.by,
                *(c for m in margins for c in m.columns if c != "population"),
            ]
        )
    )
    work = data[columns].astype({c: object for c in columns if c != "design_weight"})
    work = work.assign(y=ys[f"__y__{TIMED}"].to_numpy(dtype=float))
    indicator = PLAN.indicator(TIMED)
    specs = pipeline._breakdown_specs(PLAN, indicator)
    mine = result.estimates[result.estimates["indicator"] == TIMED]
    return work, margins, specs, mine, result.estimates["indicator"].nunique(), len(result.estimates)


def svy_one_at_a_time(n: int) -> dict:
    import polars as pl
    import svy

    work, margins, specs, mine, n_indicators, _ = peer_work(n)
    # the tiny neighbourhood has one PSU; svy's singleton rules ("center", …) differ from R's "adjust" on a
    # calibrated design, so svy gets the sample without it (its 1 respondent) and the numbers are compared on the
    # domains inside the other neighbourhoods (which that stratum does not touch under "adjust")
    lonely = _lonely(work)
    work = work[~work["neighbourhood"].isin(lonely)]
    margins = [m[~m["neighbourhood"].isin(lonely)] for m in margins]
    keys = [[c for c in m.columns if c != "population"] for m in margins]
    data = pl.from_pandas(work).with_columns(
        [pl.concat_str([pl.col(c) for c in k], separator="|").alias(f"m{i}") for i, k in enumerate(keys)]
    )
    controls = {
        f"m{i}": {"|".join(str(v) for v in row[:-1]): row[-1] for row in m[k + ["population"]].itertuples(index=False)}
        for i, (m, k) in enumerate(zip(margins, keys))
    }
    before = _maxrss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    sample = svy.Sample(data, svy.Design(stratum="neighbourhood", psu="psu", wgt="design_weight"))
    sample = sample.weighting.rake(controls=controls, wgt_name="rk", tol=1e-12, max_iter=200)
    rake_s, rake_cpu = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    results = []
    # deff against SRS without replacement needs a population larger than the sample: at 1M responses the
    # plan's margins (Trujillo's 970,016 adults) are smaller, svy then refuses "wor" (ours gives NaN, as R)
    deff = "wor" if sum(margins[0]["population"]) > len(work) else "wr"
    for spec in [None, *specs]:
        result = sample.estimation.prop(
            "y", by=None if spec is None else spec, drop_nulls=True, ci_method="logit", deff=deff
        )
        results.append(result.to_polars().to_pandas())
    per_indicator, per_indicator_cpu = time.perf_counter() - start, time.process_time() - cpu
    est_diff, se_diff, compared = _compare_svy(results, specs, mine, lonely)
    return {
        "engine": "svy 0.35 (one estimate per call)",
        "n": n,
        "rake_s": rake_s,
        "wall_s": rake_s + per_indicator * n_indicators,
        "cpu_s": rake_cpu + per_indicator_cpu * n_indicators,
        "extrapolated": f"timed 1 indicator × {len(specs) + 1} breakdowns ({per_indicator:.2f} s), ×{n_indicators}",
        "max_rel_diff_estimate": est_diff,
        "max_rel_diff_se": se_diff,
        "compared_rows": compared,
        "rss_before_mb": before,
        "peak_rss_mb": _maxrss_mb(),
    }


def _ours_by_key(mine: pd.DataFrame) -> pd.DataFrame:
    area = mine["area"].astype(object).where(mine["area"].notna(), "None")
    return mine.assign(key=area.astype(str) + "|" + mine["group"].astype(str))


def _lonely(work: pd.DataFrame) -> set[str]:
    psus = work.groupby("neighbourhood")["psu"].nunique()
    return set(psus[psus == 1].index)


def _compare_svy(results: list[pd.DataFrame], specs: list, mine: pd.DataFrame, lonely: set[str]):
    """Largest relative differences from ours on the domains inside a neighbourhood with more than one PSU."""
    ours_ = _ours_by_key(mine).set_index("key")
    est, se = [], []
    for spec, result in zip([None, *specs], results):
        if spec is None or (isinstance(spec, str) and spec != "neighbourhood"):
            continue  # these domains span the lonely PSU's stratum
        result = result[result["y"] == 1.0]
        if spec == "neighbourhood":
            area, keys = result[spec].astype(str), "None|" + result[spec].astype(str)
            rows = ours_[ours_["by"] == spec]
        else:
            area = result[spec[0]].astype(str)
            keys = area + "|" + result[spec[1]].astype(str)
            rows = ours_[(ours_["by"] == spec[1]) & ours_["area"].notna()]
        inside = ~area.isin(lonely).to_numpy()
        rows = rows.loc[keys.to_numpy()[inside]]
        est.append(np.abs(result["est"].to_numpy()[inside] / rows["estimate"].to_numpy() - 1))
        se.append(np.abs(result["se"].to_numpy()[inside] / rows["se"].to_numpy() - 1))
    est, se = np.concatenate(est), np.concatenate(se)
    return float(np.nanmax(est)), float(np.nanmax(se)), int(np.isfinite(est).sum())


def samplics_one_at_a_time(n: int) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    from samplics.estimation import TaylorEstimator
    from samplics.utils.types import PopParam

    work, _, specs, mine, n_indicators, _ = peer_work(n)
    weights = pipeline.run(PLAN, submissions(n)).microdata["weight"].to_numpy()  # raked, taken as fixed weights
    before = _maxrss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    y = work["y"].to_numpy()
    keep = ~np.isnan(y) & ~work["neighbourhood"].isin(_lonely(work)).to_numpy()  # samplics refuses a lonely PSU
    first = None
    for spec in [None, *specs]:
        if spec is None:
            domain = None
        elif isinstance(spec, str):
            domain = work[spec].astype(str).to_numpy()[keep]
        else:
            domain = (work[spec[0]].astype(str) + "|" + work[spec[1]].astype(str)).to_numpy()[keep]
        estimator = TaylorEstimator(PopParam.prop)
        estimator.estimate(
            y[keep],
            samp_weight=weights[keep],
            stratum=work["neighbourhood"].to_numpy()[keep],
            psu=work["psu"].to_numpy()[keep],
            domain=domain,
            remove_nan=True,
        )
        first = first or estimator
    per_indicator, per_indicator_cpu = time.perf_counter() - start, time.process_time() - cpu
    overall = mine[mine["by"] == "overall"].iloc[0]  # compared although samplics misses 1 respondent
    return {
        "engine": "samplics 0.6 (one estimate per call; no calibration-aware variance)",
        "n": n,
        "wall_s": per_indicator * n_indicators,
        "cpu_s": per_indicator_cpu * n_indicators,
        "extrapolated": f"timed 1 indicator × {len(specs) + 1} breakdowns ({per_indicator:.2f} s), ×{n_indicators}; "
        "raked weights given as fixed weights, rows outside the base dropped before the call (samplics' way), "
        "the one-PSU neighbourhood left out (samplics refuses it)",
        "overall_estimate_vs_ours": float(abs(first.point_est[1.0] / overall["estimate"] - 1)),
        "overall_se_vs_ours_calibrated": float(abs(first.stderror[1.0] / overall["se"] - 1)),
        "rss_before_mb": before,
        "peak_rss_mb": _maxrss_mb(),
    }


R_SCRIPT = r"""
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
args <- commandArgs(TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
margin_files <- strsplit(args[2], ";")[[1]]
margins <- lapply(margin_files, function(f) { m <- read.csv(f, stringsAsFactors = FALSE); names(m)[ncol(m)] <- "Freq"; m })
formulas <- lapply(margins, function(m) as.formula(paste("~", paste(names(m)[-ncol(m)], collapse = "+"))))
specs <- strsplit(strsplit(args[3], ";")[[1]], ",")
t0 <- Sys.time(); c0 <- sum(proc.time()[c("user.self", "sys.self")])
des <- svydesign(ids = ~psu, strata = ~neighbourhood, weights = ~design_weight, nest = TRUE, data = d)
des <- rake(des, formulas, margins, control = list(maxit = 100, epsilon = 1e-10))
t1 <- Sys.time(); c1 <- sum(proc.time()[c("user.self", "sys.self")])
out <- list(); domains <- 0
sub <- subset(des, !is.na(y))
for (s in specs) {
  if (s[1] == "overall") {
    r <- svyciprop(~y, sub, method = "xlogit", na.rm = TRUE)
    out[[length(out) + 1]] <- data.frame(by = "overall", key = "None|all", estimate = as.numeric(coef(r)),
                                         se = as.numeric(SE(r)))
    domains <- domains + 1
  } else {
    f <- as.formula(paste("~", paste(s, collapse = "+")))
    r <- svyby(~y, f, sub, svyciprop, method = "xlogit", vartype = c("se", "ci"), na.rm = TRUE)
    key <- if (length(s) == 1) paste0("None|", r[[s[1]]]) else paste0(r[[s[1]]], "|", r[[s[2]]])
    out[[length(out) + 1]] <- data.frame(by = s[length(s)], key = key, estimate = r$y, se = SE(r))
    domains <- domains + nrow(r)
  }
}
t2 <- Sys.time(); c2 <- sum(proc.time()[c("user.self", "sys.self")])
write.csv(do.call(rbind, out), args[4], row.names = FALSE)
cat(as.numeric(t1 - t0, units = "secs"), as.numeric(t2 - t1, units = "secs"), c1 - c0, c2 - c1, domains, "\n")
"""


def r_survey(n: int) -> dict:
    work, margins, specs, mine, _, total_rows = peer_work(n)
    if n > 10_000:  # R at 1M would take hours for every domain: a few breakdowns, scaled per domain
        specs = ["sex", "neighbourhood"] if n < 1_000_000 else ["sex"]
    tmp = Path(tempfile.mkdtemp())
    try:
        work.to_csv(tmp / "d.csv", index=False)
        margin_paths = []
        for i, m in enumerate(margins):
            margin_paths.append(str(tmp / f"m{i}.csv"))
            m.to_csv(margin_paths[-1], index=False)
        (tmp / "bench.R").write_text(R_SCRIPT)
        spec_arg = ";".join(["overall"] + [s if isinstance(s, str) else ",".join(s) for s in specs])
        done = subprocess.run(
            [
                "Rscript",
                str(tmp / "bench.R"),
                str(tmp / "d.csv"),
                ";".join(margin_paths),
                spec_arg,
                str(tmp / "out.csv"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        rake_s, estimate_s, rake_cpu, estimate_cpu, domains = (float(x) for x in done.stdout.split())
        r_table = pd.read_csv(tmp / "out.csv")
    finally:
        shutil.rmtree(tmp)
    both = r_table.merge(_ours_by_key(mine), on=["by", "key"], suffixes=("_r", ""))
    both = both[both["flag"] != "suppressed"]
    return {
        "engine": "R survey (svyby + svyciprop xlogit, one indicator)",
        "n": n,
        "rake_s": rake_s,
        "wall_s": rake_s + estimate_s / domains * total_rows,
        "cpu_s": rake_cpu + estimate_cpu / domains * total_rows,
        "extrapolated": f"timed {int(domains)} domain estimates ({estimate_s:.2f} s), scaled to {total_rows}",
        "max_rel_diff_estimate": float(np.max(np.abs(both["estimate_r"] / both["estimate"] - 1))),
        "max_rel_diff_se": float(np.max(np.abs(both["se_r"] / both["se"] - 1))),
        "compared_rows": len(both),
    }


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_worker(engine: str, n: int, per_psu: int) -> dict:
    command = [sys.executable, __file__, "--worker", engine, str(n), "--per-psu", str(per_psu)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        return {"engine": engine, "n": n, "per_psu": per_psu, "error": done.stderr.strip().splitlines()[-1]}
    return {"per_psu": per_psu, **json.loads(done.stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--r-sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--samplics-sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--no-r", action="store_true")
    parser.add_argument("--no-svy", action="store_true")
    parser.add_argument(
        "--per-psu", type=int, nargs="+", default=[100, 12], help="respondents per PSU (each size is run at each)"
    )
    parser.add_argument("--worker", nargs=2)
    args = parser.parse_args()
    if args.worker:
        global PER_PSU
        PER_PSU = args.per_psu[0]
        workers = {"ours": ours, "svy": svy_one_at_a_time, "samplics": samplics_one_at_a_time, "r": r_survey}
        print(json.dumps(workers[args.worker[0]](int(args.worker[1]))))
        return
    print(f"load average before: {os.getloadavg()}")
    for n, per_psu in ((n, k) for n in args.sizes for k in args.per_psu):
        engines = ["ours"] + ([] if args.no_svy else ["svy"]) + (["samplics"] if n in args.samplics_sizes else [])
        engines += ["r"] if (not args.no_r and n in args.r_sizes and shutil.which("Rscript")) else []
        results = {engine: _run_worker(engine, n, per_psu) for engine in engines}
        base, base_cpu = results["ours"].get("wall_s"), results["ours"].get("cpu_s")
        for engine, result in results.items():
            ratio = ""
            if base and engine != "ours" and "wall_s" in result:
                ratio = f"  ({result['wall_s'] / base:.0f}× ours wall, {result['cpu_s'] / base_cpu:.0f}× cpu)"
            print(json.dumps(result) + ratio)
        print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
