"""The analysis plan: a TOML file saying how responses become estimates (format in docs/DESIGN.md, "Analysis
plan", and analysis/plans/README.md), as a model checked on its own.

Why a module of its own: every mistake a plan can hold (a misspelt key, a wrong method, margins that disagree)
must surface as one clear message *before* any weighting starts, so that a researcher fixes the plan instead of
reading a silently wrong table. `load_plan` checks the file on its own (keys, types, methods, margin files).
What only the data can contradict is in `analysis.plan_checks`; the domain expression language in
`analysis.domains`; the XLSForm's choice lists in `forms.choices`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.domains import expression_columns
from analysis.errors import AnalysisError

CI_METHODS = ("logit", "beta", "wilson")
WEIGHT_METHODS = ("rake", "poststratify", "none")
LONELY_PSU = ("adjust", "average", "certainty", "remove", "fail")
STATISTICS = ("proportion", "mean", "total")
MEAN_OVER = ("all", "any", "shares")
VARIANCE_METHODS = ("linearization", "jk1", "jkn", "bootstrap")
# How an indicator stands against its SDG metadata: the same question, scale, base and computation; comparable with
# the caveats its comparability_note states; or a local measure that must not be reported as the SDG series.
COMPARABILITY = ("exact", "comparable", "local")
# The plan of the shipped questionnaire: what the CLI and the dashboard use unless given another.
DEFAULT_PLAN = Path(__file__).resolve().parent / "plans" / "sdg16.toml"


def is_frame_file(fpc: str | None) -> bool:
    """`[design] fpc` names a sampling frame (a CSV of blocks) rather than R's per-row fpc column."""
    return bool(fpc) and str(fpc).lower().endswith(".csv")


class PlanError(AnalysisError):
    """A plan that cannot be run; the message lists every problem found, each naming its place in the plan."""

    def __init__(self, problems: list[str], source: str = "analysis plan"):
        self.problems = problems
        super().__init__(f"{source}: " + ("\n  - " if len(problems) > 1 else "") + "\n  - ".join(problems))


@dataclass(frozen=True)
class DesignSpec:
    """`[design]`: the sampling design columns (None = not used), R's survey.lonely.psu rule and its
    survey.adjust.domain.lonely option, where the design weight comes from (`weight_from`: "column" = the `weight`
    column as recoded; "probabilities" = the recorded selection probabilities of `[selection]`, adjusted for
    non-response as `[nonresponse]` says, written to the `weight` column) and `fpc`: R's `fpc=` column (population
    PSUs per stratum, or a sampling fraction ≤ 1), or a frame CSV (block, neighbourhood; a name ending in .csv) whose
    block counts per stratum give the first stage's correction."""

    strata: str | None = None
    psu: str | None = None
    weight: str | None = None
    fpc: str | None = None
    lonely_psu: str = "adjust"
    adjust_domain_lonely: bool = False
    weight_from: str = "column"


@dataclass(frozen=True)
class SelectionSpec:
    """`[selection]`: the submission fields that record the sample (questionnaire v2's visit section)."""

    prob_block: str = "prob_block"
    take: str = "block_take"
    dwellings: str = "block_dwellings"
    eligible_adults: str = "eligible_adults"
    dwelling: str = "dwelling_number"
    visit: str = "visit_number"
    disposition: str = "disposition"


@dataclass(frozen=True)
class NonresponseSpec:
    """`[nonresponse]`: weighting classes for the eligibility and non-response adjustments, finest first (a class
    with fewer than `min_respondents` respondents or an adjustment factor above `max_factor` is merged into the
    next level), each crossed with `by` (what is known for respondents and non-respondents alike)."""

    classes: tuple[str, ...] = ("psu", "neighbourhood")
    by: tuple[str, ...] = ()
    min_respondents: int = 3
    max_factor: float = 3.0


@dataclass(frozen=True)
class MarginSpec:
    """One `[[margins]]` entry: the resolved file, its table (margin columns + `population`) and its source note."""

    file: Path
    table: pd.DataFrame = field(compare=False, repr=False)
    source: str = ""

    @property
    def columns(self) -> list[str]:
        return [c for c in self.table.columns if c != "population"]


@dataclass(frozen=True)
class WeightsSpec:
    """`[weights]`: calibration method, optional trimming bounds on adjustment factors, convergence control, and
    `min_cell`: within a stratum, a margin with a cell of fewer respondents is collapsed to the stratum total."""

    method: str = "rake"
    trim: tuple[float, float] | None = None
    epsilon: float = 1e-10
    maxit: int = 100
    min_cell: int = 1


@dataclass(frozen=True)
class RecodeSpec:
    """`[recode]`: the questionnaire-specific steps a plan declares; a plan that declares none applies none.

    `consent` / `age` + `min_age`: eligibility (consent = yes; min_age <= age <= 120); `age_groups`: the 16.7.2 age
    bands and youth from `age`; `disability`: the six Washington Group columns → `disability`; `household_adults`:
    the design weight of one adult chosen per household; `derive`: named derived-variable steps of analysis/recode.py
    (see `recode.DERIVE_STEPS`); `competent_strict` / `competent_broad`: the bodies that count as competent for
    16.3.1 (strict series and its broad local variant); `dispute_formal` / `dispute_informal`: the 16.3.3 mechanism
    types."""

    consent: str = ""
    age: str = ""
    min_age: int = 18
    age_groups: bool = False
    disability: tuple[str, ...] = ()
    household_adults: str = ""
    derive: tuple[str, ...] = ()
    competent_strict: tuple[str, ...] = ()
    competent_broad: tuple[str, ...] = ()
    dispute_formal: tuple[str, ...] = ()
    dispute_informal: tuple[str, ...] = ()


@dataclass(frozen=True)
class Indicator:
    """`[[indicator]]`: a share (`variable`/`success`, `statistic = "proportion"`), the mean or total of a
    numeric `variable` (`statistic = "mean" | "total"`, `exclude` codes such as 98/99 left out), or a composite
    of other shares (`mean_of`): the mean per respondent over those valid on all components (`mean_over =
    "all"`) or on any (`"any"`: the mean of the components each answered), or the average of the components'
    shares, each on its own base (`"shares"`). `success`/`exclude` values are choice names or numeric codes,
    compared in the column's type."""

    id: str
    name: str = ""
    series: str = ""
    variable: str | None = None
    statistic: str = "proportion"
    success: tuple[str | int | float, ...] = ()
    exclude: tuple[str | int | float, ...] = ()
    multiple: bool = False
    domain: str = ""
    by: tuple[str, ...] | None = None
    mean_of: tuple[str, ...] = ()
    mean_over: str = "all"
    note: str = ""
    comparability: str = ""  # "exact" | "comparable" | "local": against the SDG metadata (see COMPARABILITY)
    comparability_note: str = ""


@dataclass(frozen=True)
class EstimationSpec:
    """`[estimation]`: interval method, level, reliability thresholds, default breakdowns, the area variable and
    the variance method.

    Reliability (the `flag` column): `suppressed` below `suppress_n` respondents (the estimate is withheld),
    `unreliable` below `min_n`, `referencial` (INEI's "cifra referencial": read with care) when the
    coefficient of variation SE/estimate exceeds `max_cv` (INEI: 15 %), the effective sample size n/deff is
    below `min_effective_n`, or a share's interval is wider than `max_ci_width` (0.30 = 30 percentage points);
    `ok` otherwise. `variance = "jk1" | "jkn" | "bootstrap"` replaces the linearised variance by replicate
    weights (each replicate re-raked), `replicates` bootstrap replicates, `seed` their random seed."""

    ci: str = "logit"
    level: float = 0.95
    min_n: int = 30
    suppress_n: int = 10
    max_cv: float = 0.15
    min_effective_n: float = 30
    max_ci_width: float = 0.30
    by: tuple[str, ...] = ()
    area: str | None = None
    variance: str = "linearization"
    replicates: int = 200
    seed: int = 20261204


@dataclass(frozen=True)
class Plan:
    """A loaded, self-consistent plan. `path` is where it came from; `form` an optional XLSForm for choices."""

    path: Path | None
    title: str
    design: DesignSpec
    margins: tuple[MarginSpec, ...]
    weights: WeightsSpec
    recode: RecodeSpec
    indicators: tuple[Indicator, ...]
    estimation: EstimationSpec
    form: Path | None = None
    selection: SelectionSpec = SelectionSpec()
    nonresponse: NonresponseSpec = NonresponseSpec()

    def indicator(self, indicator_id: str) -> Indicator:
        return next(i for i in self.indicators if i.id == indicator_id)

    def breakdowns(self, indicator: Indicator) -> tuple[str, ...]:
        """The indicator's own `by`, else the plan's default."""
        return indicator.by if indicator.by is not None else self.estimation.by

    def required_columns(self) -> set[str]:
        """Every data column the plan refers to (after recode)."""
        made = self.design.weight if self.design.weight_from == "probabilities" else None
        fpc = None if is_frame_file(self.design.fpc) else self.design.fpc
        columns = {c for c in (self.design.strata, self.design.psu, self.design.weight, fpc) if c and c != made}
        columns.update(c for m in self.margins for c in m.columns)
        if self.estimation.area:
            columns.add(self.estimation.area)
        for ind in self.indicators:
            columns.update(self.breakdowns(ind))
            if ind.variable:
                columns.add(ind.variable)
            if ind.domain:
                columns.update(expression_columns(ind.domain))
        return columns


_SECTIONS = {
    "design": DesignSpec,
    "weights": WeightsSpec,
    "recode": RecodeSpec,
    "estimation": EstimationSpec,
    "selection": SelectionSpec,
    "nonresponse": NonresponseSpec,
}
_TOP_KEYS = {
    "title",
    "form",
    "design",
    "margins",
    "weights",
    "recode",
    "indicator",
    "estimation",
    "selection",
    "nonresponse",
}
WEIGHT_FROM = ("column", "probabilities")
_MARGIN_KEYS = {"file", "source"}
_INDICATOR_KEYS = tuple(Indicator.__dataclass_fields__)


def load_plan(path: str | Path) -> Plan:
    """Read and check a plan file; relative paths inside it resolve against its folder."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanError([f"file not found: {path}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise PlanError([f"not valid TOML: {exc}"], source=str(path)) from None
    return parse_plan(raw, base=path.parent, path=path)


def parse_plan(raw: dict, base: Path = Path("."), path: Path | None = None) -> Plan:
    """Build a Plan from parsed TOML, collecting every problem before raising one PlanError."""
    problems: list[str] = []
    problems += [
        f"unknown top-level key '{k}' (expected one of {', '.join(sorted(_TOP_KEYS))})"
        for k in raw
        if k not in _TOP_KEYS
    ]
    sections = {name: _section(raw.get(name, {}), name, cls, problems) for name, cls in _SECTIONS.items()}
    for name in ("margins", "indicator"):
        if not (isinstance(raw.get(name, []), list) and all(isinstance(e, dict) for e in raw.get(name, []))):
            problems.append(f"'{name}' must be written as [[{name}]] tables")
            raw = {**raw, name: []}
    margins = tuple(_margins(raw.get("margins", []), base, problems))
    indicators = tuple(_indicators(raw.get("indicator", []), problems))
    form = raw.get("form")
    form_path = (base / form).resolve() if form else None
    if form_path is not None and not form_path.is_file():
        problems.append(f"form: file not found: {form_path}")
    plan = Plan(
        path=path,
        title=str(raw.get("title", "")),
        design=sections["design"],
        margins=margins,
        weights=sections["weights"],
        recode=sections["recode"],
        indicators=indicators,
        estimation=sections["estimation"],
        form=form_path,
        selection=sections["selection"],
        nonresponse=sections["nonresponse"],
    )
    if is_frame_file(plan.design.fpc):
        plan = replace(plan, design=replace(plan.design, fpc=str((base / plan.design.fpc).resolve())))
        if not Path(plan.design.fpc).is_file():
            problems.append(f"[design] fpc: frame file not found: {plan.design.fpc}")
    problems += _check_values(plan)
    problems += _check_margin_totals(margins)
    if problems:
        raise PlanError(problems, source=str(path) if path else "analysis plan")
    return plan


def _section(raw: dict, name: str, cls, problems: list[str]):
    """One table section → its dataclass; unknown keys are named with their section."""
    if not isinstance(raw, dict):
        problems.append(f"[{name}] must be a table")
        return cls()
    known = cls.__dataclass_fields__
    problems += [f"unknown key '{k}' in [{name}] (expected one of {', '.join(known)})" for k in raw if k not in known]
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in raw.items() if k in known}
    for key in ("strata", "psu", "weight", "fpc", "area"):
        if key in values and values[key] == "":
            values[key] = None
    return cls(**values)


def _margins(raw: list, base: Path, problems: list[str]) -> list[MarginSpec]:
    """Each `[[margins]]` file read as a table with margin columns and a numeric, non-negative `population`."""
    specs = []
    for i, entry in enumerate(raw, start=1):
        where = f"[[margins]] #{i}"
        problems += [f"unknown key '{k}' in {where} (expected file, source)" for k in entry if k not in _MARGIN_KEYS]
        if "file" not in entry:
            problems.append(f"{where} has no 'file'")
            continue
        file = (base / entry["file"]).resolve()
        try:
            table = pd.read_csv(file, dtype=str, keep_default_na=False)
        except FileNotFoundError:
            problems.append(f"{where}: margin file not found: {file}")
            continue
        where = f"margin file {file.name}"
        if "population" not in table.columns or len(table.columns) < 2:
            problems.append(f"{where} needs the margin column(s) and a 'population' column, has {list(table.columns)}")
            continue
        population = pd.to_numeric(table["population"], errors="coerce")
        bad = table.loc[population.isna() | (population < 0), "population"]
        if len(bad):
            problems.append(f"{where}: population must be a non-negative number, got {', '.join(map(repr, bad[:5]))}")
            continue
        table["population"] = population
        keys = [c for c in table.columns if c != "population"]
        dup = table[table.duplicated(keys, keep=False)]
        if len(dup):
            problems.append(f"{where}: repeated cell(s) {dup[keys].drop_duplicates().to_dict('records')[:3]}")
        specs.append(MarginSpec(file=file, table=table, source=str(entry.get("source", ""))))
    return specs


def _indicators(raw: list, problems: list[str]) -> list[Indicator]:
    """Each `[[indicator]]` table; a share needs `variable` + `success`, a composite needs `mean_of`."""
    indicators = []
    for i, entry in enumerate(raw, start=1):
        where = f"[[indicator]] #{i} ({entry.get('id', 'no id')})"
        unknown = [k for k in entry if k not in _INDICATOR_KEYS]
        problems += [f"unknown key '{k}' in {where} (expected one of {', '.join(_INDICATOR_KEYS)})" for k in unknown]
        if "id" not in entry:
            problems.append(f"{where} has no 'id'")
            continue
        values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in entry.items() if k not in unknown}
        indicators.append(Indicator(**values))
    return indicators


def _check_values(plan: Plan) -> list[str]:
    """Methods, levels, thresholds and indicator shapes that are wrong whatever the data."""
    problems = []
    est, w, d = plan.estimation, plan.weights, plan.design
    if est.ci not in CI_METHODS:
        problems.append(f"[estimation] ci = '{est.ci}' is not a method (use one of {', '.join(CI_METHODS)})")
    if not isinstance(est.level, (int, float)) or not 0 < est.level < 1:
        problems.append(f"[estimation] level = {est.level!r} must be a number strictly between 0 and 1, e.g. 0.95")
    if not (isinstance(est.min_n, int) and isinstance(est.suppress_n, int) and 0 <= est.suppress_n <= est.min_n):
        problems.append(f"[estimation] needs whole numbers 0 <= suppress_n <= min_n, got {est.suppress_n}, {est.min_n}")
    for key in ("max_cv", "min_effective_n", "max_ci_width"):
        value = getattr(est, key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            problems.append(f"[estimation] {key} = {value!r} must be a number >= 0")
    if est.variance not in VARIANCE_METHODS:
        problems.append(f"[estimation] variance = '{est.variance}' is not one of {', '.join(VARIANCE_METHODS)}")
    if est.variance != "linearization" and not (isinstance(est.replicates, int) and est.replicates >= 2):
        problems.append(f"[estimation] replicates = {est.replicates!r} must be a whole number >= 2")
    if not isinstance(d.adjust_domain_lonely, bool):
        problems.append(f"[design] adjust_domain_lonely = {d.adjust_domain_lonely!r} must be true or false")
    if w.method not in WEIGHT_METHODS:
        problems.append(f"[weights] method = '{w.method}' is not one of {', '.join(WEIGHT_METHODS)}")
    if w.method != "none" and not plan.margins:
        problems.append(f"[weights] method = '{w.method}' needs at least one [[margins]] file")
    if w.method == "poststratify" and len(plan.margins) != 1:
        problems.append("[weights] method = 'poststratify' takes exactly one [[margins]] file (its cells)")
    if w.trim is not None and not (len(w.trim) == 2 and 0 < w.trim[0] < 1 < w.trim[1]):
        problems.append(f"[weights] trim = {list(w.trim)} must be [low, high] with 0 < low < 1 < high")
    if not isinstance(w.min_cell, int) or w.min_cell < 1:
        problems.append(f"[weights] min_cell = {w.min_cell!r} must be a whole number >= 1")
    if not _strings(est.by):
        problems.append('[estimation] by must be a list of column names, e.g. by = ["sex"]')
    r = plan.recode
    if not (isinstance(r.age_groups, bool) and isinstance(r.min_age, int)):
        problems.append("[recode] age_groups must be true or false and min_age a whole number")
    for key in ("disability", "derive", "competent_strict", "competent_broad", "dispute_formal", "dispute_informal"):
        if not _strings(getattr(r, key)):
            problems.append(f'[recode] {key} must be a list of names, e.g. {key} = ["a", "b"]')
    if r.age_groups and not r.age:
        problems.append('[recode] age_groups = true needs the age column (age = "...")')
    if d.weight_from not in WEIGHT_FROM:
        problems.append(f"[design] weight_from = '{d.weight_from}' is not one of {', '.join(WEIGHT_FROM)}")
    if d.weight_from == "probabilities" and not (d.weight and d.psu):
        problems.append(
            "[design] weight_from = 'probabilities' needs `psu` (the block) and `weight` (the column the "
            "adjusted weight is written to)"
        )
    nr = plan.nonresponse
    if not (_strings(nr.classes) and nr.classes and _strings(nr.by)):
        problems.append("[nonresponse] classes (at least one) and by must be lists of column names")
    if not (isinstance(nr.min_respondents, int) and nr.min_respondents >= 1 and nr.max_factor > 1):
        problems.append("[nonresponse] needs min_respondents >= 1 (whole number) and max_factor > 1")
    if d.lonely_psu not in LONELY_PSU:
        problems.append(f"[design] lonely_psu = '{d.lonely_psu}' is not one of {', '.join(LONELY_PSU)}")
    ids = [i.id for i in plan.indicators]
    problems += [f"indicator id '{x}' is used more than once" for x in sorted({x for x in ids if ids.count(x) > 1})]
    if not plan.indicators:
        problems.append("the plan has no [[indicator]]")
    composites = {i.id for i in plan.indicators if i.mean_of}
    for ind in plan.indicators:
        problems += _check_indicator_shape(ind, set(ids) - composites, composites)
    return problems


def _check_indicator_shape(ind: Indicator, shares: set[str], composites: set[str]) -> list[str]:
    where = f"indicator {ind.id}"
    if ind.comparability not in ("", *COMPARABILITY):
        return [f"{where}: comparability = '{ind.comparability}' must be one of {', '.join(COMPARABILITY)}"]
    wrong = [k for k in ("by", "mean_of") if getattr(ind, k) is not None and not _strings(getattr(ind, k))]
    wrong += [k for k in ("success", "exclude") if not _codes(getattr(ind, k))]
    if wrong:
        return [
            f'{where}: {k} must be a list of choice names or numeric codes, e.g. {k} = ["yes"] or [1]' for k in wrong
        ]
    if ind.statistic not in STATISTICS:
        return [f"{where}: statistic = '{ind.statistic}' is not one of {', '.join(STATISTICS)}"]
    if ind.mean_of:
        problems = [
            f"{where}: mean_of refers to unknown indicator '{c}'" for c in ind.mean_of if c not in shares | composites
        ]
        problems += [
            f"{where}: mean_of component '{c}' is itself a mean_of; list its shares instead"
            for c in ind.mean_of
            if c in composites
        ]
        if len(ind.mean_of) < 2:
            problems.append(f"{where}: mean_of needs at least two indicators")
        if ind.mean_over not in MEAN_OVER:
            problems.append(f"{where}: mean_over = '{ind.mean_over}' must be one of {', '.join(MEAN_OVER)}")
        if ind.statistic != "proportion":
            problems.append(f"{where}: mean_of combines shares; drop statistic")
        if ind.variable or ind.success or ind.domain:
            problems.append(f"{where}: mean_of takes its bases from its components; drop variable/success/domain")
        return problems
    problems = []
    if ind.statistic != "proportion":
        if not ind.variable:
            problems.append(f"{where}: statistic = '{ind.statistic}' needs a numeric 'variable'")
        if ind.success:
            problems.append(f"{where}: statistic = '{ind.statistic}' takes the variable's values; drop 'success'")
    else:
        if not ind.variable:
            problems.append(f"{where}: needs 'variable' and 'success' (or 'mean_of')")
        if not ind.success:
            problems.append(f"{where}: 'success' lists no value")
    overlap = set(ind.success) & set(ind.exclude)
    if overlap:
        problems.append(f"{where}: value(s) {sorted(overlap)} are both success and exclude")
    if ind.domain:
        try:
            expression_columns(ind.domain)
        except AnalysisError as exc:
            problems.append(f"{where}: domain: {exc}")
    return problems


def _strings(value) -> bool:
    return isinstance(value, tuple) and all(isinstance(v, str) for v in value)


def _codes(value) -> bool:
    """Choice names or numeric codes (not true/false, which TOML would give for a misquoted yes/no)."""
    return isinstance(value, tuple) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value)


def as_number(value) -> float | None:
    """A plan value or an answer as a number if it is one ("1", 1 and 1.0 → 1.0; "yes", True → None)."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, float, np.number)):
        return None if np.isnan(value) else float(value)
    try:
        number = float(str(value))
    except ValueError:
        return None
    return None if np.isnan(number) else number


def matches(answers, values) -> np.ndarray:
    """Which answers (a column's distinct values) are among a plan's `success`/`exclude` values, compared in the
    column's type: choice names as text; numbers as numbers, so a plan's 1 matches a column's 1, 1.0 or "1"."""
    texts = {v for v in values if isinstance(v, str)}
    numbers = {n for n in map(as_number, values) if n is not None}
    return np.array(
        [(isinstance(a, str) and a in texts) or (bool(numbers) and as_number(a) in numbers) for a in answers],
        dtype=bool,
    )


def _check_margin_totals(margins: tuple[MarginSpec, ...]) -> list[str]:
    """Raking cannot converge when margins disagree: compare totals overall and per shared variable."""
    problems = []
    for a, b in zip(margins, margins[1:]):
        ta, tb = a.table["population"].sum(), b.table["population"].sum()
        if not np.isclose(ta, tb, rtol=1e-9, atol=0.5):
            problems.append(f"margin files {a.file.name} and {b.file.name} disagree on the total: {ta:g} vs {tb:g}")
        for shared in sorted(set(a.columns) & set(b.columns)):
            sa = a.table.groupby(shared)["population"].sum()
            sb = b.table.groupby(shared)["population"].sum()
            joined = pd.concat([sa.rename("a"), sb.rename("b")], axis=1)
            off = joined[~np.isclose(joined["a"].fillna(-1), joined["b"].fillna(-1), rtol=1e-9, atol=0.5)]
            for value, row in off.head(5).iterrows():
                problems.append(
                    f"margin files {a.file.name} and {b.file.name} disagree for {shared} = '{value}': "
                    f"{row['a']:g} vs {row['b']:g}"
                )
    return problems


# Names that lived here before the split, for code written against the old module (resolved on first use: the
# checks import this module, so they cannot be imported at its top).
_MOVED = {
    "check_against_data": "analysis.plan_checks",
    "evaluate_domain": "analysis.domains",
    "by_unique": "analysis.domains",
    "selected_any": "analysis.domains",
    "read_form_choices": "forms.choices",
    "read_form_fields": "forms.choices",
}


def __getattr__(name: str):
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
