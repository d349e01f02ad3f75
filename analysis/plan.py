"""The analysis plan: a TOML file saying how responses become estimates (format in DESIGN.md and
analysis/plans/README.md), as a model checked on its own.

Why a module of its own: every mistake a plan can hold (a misspelt key, a wrong method, margins that disagree)
must surface as one clear message *before* any weighting starts, so that a researcher fixes the plan instead of
reading a silently wrong table. `load_plan` checks the file on its own (keys, types, methods, margin files).
What only the data can contradict is in `analysis.plan_checks`; the domain expression language in
`analysis.domains`; the XLSForm's choice lists in `forms.choices`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.domains import expression_columns
from analysis.errors import AnalysisError

CI_METHODS = ("logit", "beta", "wilson")
WEIGHT_METHODS = ("rake", "poststratify", "none")
LONELY_PSU = ("adjust", "certainty", "remove", "fail")
# The plan of the shipped questionnaire: what the CLI and the dashboard use unless given another.
DEFAULT_PLAN = Path(__file__).resolve().parent / "plans" / "sdg16.toml"


class PlanError(AnalysisError):
    """A plan that cannot be run; the message lists every problem found, each naming its place in the plan."""

    def __init__(self, problems: list[str], source: str = "analysis plan"):
        self.problems = problems
        super().__init__(f"{source}: " + ("\n  - " if len(problems) > 1 else "") + "\n  - ".join(problems))


@dataclass(frozen=True)
class DesignSpec:
    """`[design]`: the sampling design columns (None = not used) and R's survey.lonely.psu rule."""

    strata: str | None = None
    psu: str | None = None
    weight: str | None = None
    lonely_psu: str = "adjust"


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
    """`[recode]`: which fields carry consent, age and household size ("" switches a step off)."""

    consent: str = "consent"
    age: str = "age"
    min_age: int = 18
    household_adults: str = "household_adults"


@dataclass(frozen=True)
class Indicator:
    """`[[indicator]]`: a share (`variable`/`success`) or the mean of other indicators' answers (`mean_of`), per
    respondent over those valid on all components (`mean_over = "all"`) or on any (`"any"`: the mean of the
    components each answered)."""

    id: str
    name: str = ""
    series: str = ""
    variable: str | None = None
    success: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    multiple: bool = False
    domain: str = ""
    by: tuple[str, ...] | None = None
    mean_of: tuple[str, ...] = ()
    mean_over: str = "all"
    note: str = ""


@dataclass(frozen=True)
class EstimationSpec:
    """`[estimation]`: interval method, level, reliability thresholds, default breakdowns and the area variable."""

    ci: str = "logit"
    level: float = 0.95
    min_n: int = 30
    suppress_n: int = 10
    by: tuple[str, ...] = ()
    area: str | None = None


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

    def indicator(self, indicator_id: str) -> Indicator:
        return next(i for i in self.indicators if i.id == indicator_id)

    def breakdowns(self, indicator: Indicator) -> tuple[str, ...]:
        """The indicator's own `by`, else the plan's default."""
        return indicator.by if indicator.by is not None else self.estimation.by

    def required_columns(self) -> set[str]:
        """Every data column the plan refers to (after recode)."""
        columns = {c for c in (self.design.strata, self.design.psu, self.design.weight) if c}
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
    "design": DesignSpec, "weights": WeightsSpec, "recode": RecodeSpec, "estimation": EstimationSpec,
}
_TOP_KEYS = {"title", "form", "design", "margins", "weights", "recode", "indicator", "estimation"}
_MARGIN_KEYS = {"file", "source"}
_INDICATOR_KEYS = tuple(Indicator.__dataclass_fields__)
_LIST_KEYS = ("success", "exclude", "by", "mean_of")


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
    problems += [f"unknown top-level key '{k}' (expected one of {', '.join(sorted(_TOP_KEYS))})"
                 for k in raw if k not in _TOP_KEYS]
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
    plan = Plan(path=path, title=str(raw.get("title", "")), design=sections["design"], margins=margins,
                weights=sections["weights"], recode=sections["recode"], indicators=indicators,
                estimation=sections["estimation"], form=form_path)
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
    for key in ("strata", "psu", "weight", "area"):
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
        problems.append("[estimation] by must be a list of column names, e.g. by = [\"sex\"]")
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
    wrong = [k for k in _LIST_KEYS if getattr(ind, k) is not None and not _strings(getattr(ind, k))]
    if wrong:
        return [f"{where}: {k} must be a list of strings, e.g. {k} = [\"yes\"]" for k in wrong]
    if ind.mean_of:
        problems = [f"{where}: mean_of refers to unknown indicator '{c}'" for c in ind.mean_of
                    if c not in shares | composites]
        problems += [f"{where}: mean_of component '{c}' is itself a mean_of; list its shares instead"
                     for c in ind.mean_of if c in composites]
        if len(ind.mean_of) < 2:
            problems.append(f"{where}: mean_of needs at least two indicators")
        if ind.mean_over not in ("all", "any"):
            problems.append(f"{where}: mean_over = '{ind.mean_over}' must be 'all' or 'any'")
        if ind.variable or ind.success or ind.domain:
            problems.append(f"{where}: mean_of takes its bases from its components; drop variable/success/domain")
        return problems
    problems = []
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
                problems.append(f"margin files {a.file.name} and {b.file.name} disagree for {shared} = '{value}': "
                                f"{row['a']:g} vs {row['b']:g}")
    return problems


# Names that lived here before the split, for code written against the old module (resolved on first use: the
# checks import this module, so they cannot be imported at its top).
_MOVED = {"check_against_data": "analysis.plan_checks", "evaluate_domain": "analysis.domains",
          "by_unique": "analysis.domains", "selected_any": "analysis.domains",
          "read_form_choices": "forms.choices", "read_form_fields": "forms.choices"}


def __getattr__(name: str):
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
