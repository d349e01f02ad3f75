"""The analysis plan: a TOML file saying how responses become estimates (format in docs/DESIGN.md, "Analysis
plan", and analysis/plans/README.md).

Why a module of its own: every mistake a plan can hold (a misspelt key, a column the data lacks, margins that
disagree, a `success` value that is a label instead of a choice name) must surface as one clear message *before*
any weighting starts, so that a researcher fixes the plan instead of reading a silently wrong table.
Two steps: `load_plan` checks the file on its own (keys, types, methods, margin files); `check_against_data`
checks it against the recoded responses (columns, choice values, domains, margin categories).

Domains are written in a small expression language parsed with `ast` (never `eval`): column names, string or
number constants, comparisons (`==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `not in`), `and`, `or`, `not`, and ODK's
`selected(column, 'choice')` for select_multiple answers. A missing value satisfies no comparison (as R's
`subset()` drops NA), so `x != 'yes'` is false where x was not asked.
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError

CI_METHODS = ("logit", "beta", "wilson")
WEIGHT_METHODS = ("rake", "poststratify", "none")
LONELY_PSU = ("adjust", "certainty", "remove", "fail")
# How an indicator stands against its SDG metadata: the same question, scale, base and computation; comparable with
# the caveats its comparability_note states; or a local measure that must not be reported as the SDG series.
COMPARABILITY = ("exact", "comparable", "local")
# The plan of the shipped questionnaire: what the CLI and the dashboard use unless given another.
DEFAULT_PLAN = Path(__file__).resolve().parent / "plans" / "sdg16.toml"


class PlanError(AnalysisError):
    """A plan that cannot be run; the message lists every problem found, each naming its place in the plan."""

    def __init__(self, problems: list[str], source: str = "analysis plan"):
        self.problems = problems
        super().__init__(f"{source}: " + ("\n  - " if len(problems) > 1 else "") + "\n  - ".join(problems))


@dataclass(frozen=True)
class DesignSpec:
    """`[design]`: the sampling design columns (None = not used), R's survey.lonely.psu rule, where the design
    weight comes from (`weight_from`: "column" = the `weight` column as recoded; "probabilities" = the recorded
    selection probabilities of `[selection]`, adjusted for non-response as `[nonresponse]` says, written to the
    `weight` column) and `fpc`: a frame CSV (block, neighbourhood) whose block counts give the finite population
    correction of the first stage ("" = none)."""

    strata: str | None = None
    psu: str | None = None
    weight: str | None = None
    lonely_psu: str = "adjust"
    weight_from: str = "column"
    fpc: str = ""


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
    comparability: str = ""  # "exact" | "comparable" | "local": against the SDG metadata (see COMPARABILITY)
    comparability_note: str = ""


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
        columns = {c for c in (self.design.strata, self.design.psu, self.design.weight) if c and c != made}
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
    "selection": SelectionSpec, "nonresponse": NonresponseSpec,
}
_TOP_KEYS = {"title", "form", "design", "margins", "weights", "recode", "indicator", "estimation", "selection",
             "nonresponse"}
WEIGHT_FROM = ("column", "probabilities")
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
                estimation=sections["estimation"], form=form_path, selection=sections["selection"],
                nonresponse=sections["nonresponse"])
    if plan.design.fpc:
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
    r = plan.recode
    if not (isinstance(r.age_groups, bool) and isinstance(r.min_age, int)):
        problems.append("[recode] age_groups must be true or false and min_age a whole number")
    for key in ("disability", "derive", "competent_strict", "competent_broad", "dispute_formal", "dispute_informal"):
        if not _strings(getattr(r, key)):
            problems.append(f"[recode] {key} must be a list of names, e.g. {key} = [\"a\", \"b\"]")
    if r.age_groups and not r.age:
        problems.append("[recode] age_groups = true needs the age column (age = \"...\")")
    if d.weight_from not in WEIGHT_FROM:
        problems.append(f"[design] weight_from = '{d.weight_from}' is not one of {', '.join(WEIGHT_FROM)}")
    if d.weight_from == "probabilities" and not (d.weight and d.psu):
        problems.append("[design] weight_from = 'probabilities' needs `psu` (the block) and `weight` (the column the "
                        "adjusted weight is written to)")
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


# ---------------------------------------------------------------------------------------------------------
# checks against the (recoded) data


def check_against_data(plan: Plan, data: pd.DataFrame, choices: pd.DataFrame | None = None) -> list[str]:
    """Raise PlanError for what the data contradicts; return warnings for what only looks odd.

    `choices` (columns variable, value[, label], e.g. from `read_form_choices` plus recode's derived choices) is
    the authority for success/exclude values: a value not among the variable's choices is an error. Without it,
    the observed values are used: a value matching an observed one only after normalising case, spaces and
    apostrophes is an error (a label written instead of a choice name, e.g. "very safe" for very_safe); any other
    unobserved value is a warning, since a small sample may simply not contain it.
    """
    if data.empty:
        raise PlanError(["the data has no eligible respondents (empty after recode)"], source="data")
    problems: list[str] = []
    warnings: list[str] = []
    missing = sorted(plan.required_columns() - set(data.columns))
    problems += [f"column '{c}' used by the plan is not in the data" for c in missing]
    by_variable = _choice_sets(choices)
    observed: dict[tuple[str, bool], set[str]] = {}
    for ind in plan.indicators:
        if ind.variable and ind.variable in data.columns:
            key = (ind.variable, ind.multiple)
            allowed = by_variable.get(ind.variable)
            if allowed is None and key not in observed:  # only without choices: ≈ 0.4 s at 1M rows (cProfile)
                observed[key] = _observed(data[ind.variable], ind.multiple)
            p, w = _check_values_of(ind, observed.get(key, set()), allowed)
            problems += p
            warnings += w
    for margin in plan.margins:
        problems += _check_margin_categories(margin, data)
    if problems:
        raise PlanError(problems, source=str(plan.path) if plan.path else "analysis plan")
    return warnings


def _choice_sets(choices: pd.DataFrame | None) -> dict[str, set[str]]:
    if choices is None or choices.empty:
        return {}
    return {v: set(g["value"].astype(str)) for v, g in choices.groupby("variable")}


def _observed(column: pd.Series, multiple: bool) -> set[str]:
    values = [str(v) for v in column.unique() if not pd.isna(v)]  # not dropna(): that copies 1M strings first
    return {token for v in values for token in v.split()} if multiple else set(values)


def _check_values_of(ind: Indicator, observed: set[str], allowed: set[str] | None) -> tuple[list[str], list[str]]:
    where = f"indicator {ind.id}"
    problems, warnings = [], []
    for kind, values in (("success", ind.success), ("exclude", ind.exclude)):
        for value in values:
            if allowed is not None:
                if value not in allowed:
                    problems.append(f"{where}: {kind} value '{value}' is not a choice of {ind.variable} "
                                    f"(choices: {', '.join(sorted(allowed))})")
            elif value not in observed:
                near = [o for o in observed if _normalise(o) == _normalise(value)]
                if near:
                    problems.append(f"{where}: {kind} value '{value}' is not a value of {ind.variable}; did you mean "
                                    f"'{near[0]}'? (plans use choice names, not labels)")
                else:
                    warnings.append(f"{where}: {kind} value '{value}' of {ind.variable} does not occur in the data")
    return problems, warnings


def _normalise(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _check_margin_categories(margin: MarginSpec, data: pd.DataFrame) -> list[str]:
    """Every respondent must fall in a margin cell, or raking has no target for them."""
    columns = [c for c in margin.columns if c in data.columns]
    if len(columns) != len(margin.columns):
        return []
    problems = []
    for column in columns:
        in_data = {str(v) for v in data[column].dropna().unique()}
        gaps = sorted(in_data - set(margin.table[column]))
        if gaps:
            problems.append(f"margin file {margin.file.name}: {column} value(s) {', '.join(gaps[:10])} occur in "
                            f"the data but have no population")
        n_missing = int(data[column].isna().sum())
        if n_missing:
            problems.append(f"margin file {margin.file.name}: {n_missing} respondent(s) have no {column}, needed "
                            f"for raking")
    return problems


# ---------------------------------------------------------------------------------------------------------
# domain expressions


_COMPARE = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
}


def _parse(expression: str) -> ast.expr:
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise AnalysisError(f"cannot parse '{expression}': {exc.msg}") from None
    for node in ast.walk(tree):
        allowed = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.Compare, ast.Name,
                   ast.Load, ast.Constant, ast.List, ast.Tuple, ast.In, ast.NotIn, ast.Call, *_COMPARE)
        if not isinstance(node, allowed):
            raise AnalysisError(f"'{expression}' uses {type(node).__name__}, which domain expressions do not allow "
                                "(only columns, constants, comparisons, in, and, or, not, selected())")
        if isinstance(node, ast.Call) and not (
                isinstance(node.func, ast.Name) and node.func.id == "selected" and len(node.args) == 2
                and isinstance(node.args[0], ast.Name) and isinstance(node.args[1], ast.Constant) and not node.keywords):
            raise AnalysisError(f"'{expression}': the only function is selected(column, 'choice')")
    return tree.body


def expression_columns(expression: str) -> set[str]:
    """The column names an expression refers to (so they can be checked before evaluating)."""
    body = _parse(expression)
    return {n.id for n in ast.walk(body) if isinstance(n, ast.Name) and n.id != "selected"}


def evaluate_domain(expression: str, data: pd.DataFrame) -> pd.Series:
    """A boolean Series: which rows satisfy the expression (missing values satisfy nothing)."""
    if not expression.strip():
        return pd.Series(True, index=data.index)
    body = _parse(expression)
    missing = sorted(expression_columns(expression) - set(data.columns))
    if missing:
        raise AnalysisError(f"domain '{expression}' refers to missing column(s) {', '.join(missing)}")
    return _eval(body, data).fillna(False).astype(bool)


def _eval(node: ast.expr, data: pd.DataFrame) -> pd.Series:
    if isinstance(node, ast.BoolOp):
        parts = [_eval(v, data) for v in node.values]
        out = parts[0]
        for part in parts[1:]:
            out = (out & part) if isinstance(node.op, ast.And) else (out | part)
        return out
    if isinstance(node, ast.UnaryOp):
        return ~_eval(node.operand, data)
    if isinstance(node, ast.Call):
        return selected_any(data[node.args[0].id], (str(node.args[1].value),)).fillna(False).astype(bool)
    if isinstance(node, ast.Compare):
        out = pd.Series(True, index=data.index)
        left = node.left
        for op, right in zip(node.ops, node.comparators):
            out &= _compare(left, op, right, data)
            left = right
        return out
    if isinstance(node, ast.Name):
        raise AnalysisError(f"column '{node.id}' alone is not a condition: compare it, e.g. {node.id} == 'yes'")
    raise AnalysisError(f"a constant alone is not a condition: {ast.unparse(node)}")


def _operand(node: ast.expr, data: pd.DataFrame, numeric: bool):
    if isinstance(node, ast.Name):
        column = data[node.id]
        if numeric:
            return pd.to_numeric(column, errors="coerce")
        # string columns compare as they are (an object copy of 1M strings costs more than the comparison)
        return column if isinstance(column.dtype, pd.StringDtype) else column.astype(object)
    if isinstance(node, ast.Constant):
        return node.value
    raise AnalysisError(f"cannot compare {ast.unparse(node)}")


def _compare(left: ast.expr, op: ast.cmpop, right: ast.expr, data: pd.DataFrame) -> pd.Series:
    if isinstance(op, (ast.In, ast.NotIn)):
        if not (isinstance(left, ast.Name) and isinstance(right, (ast.List, ast.Tuple))):
            raise AnalysisError(f"'in' needs a column on the left and a list of constants on the right")
        values = [str(e.value) for e in right.elts if isinstance(e, ast.Constant)]
        column = data[left.id]
        hit = (column if isinstance(column.dtype, pd.StringDtype) else column.astype(object)).isin(values)
        result = hit if isinstance(op, ast.In) else ~hit
        return result.where(column.notna(), False).astype(bool)
    constants = [n.value for n in (left, right) if isinstance(n, ast.Constant)]
    numeric = any(isinstance(c, (int, float)) and not isinstance(c, bool) for c in constants)
    a, b = _operand(left, data, numeric), _operand(right, data, numeric)
    result = _COMPARE[type(op)](a, b)
    if not isinstance(result, pd.Series):
        raise AnalysisError("a comparison needs at least one column")
    valid = pd.Series(True, index=data.index)
    for side in (a, b):
        if isinstance(side, pd.Series):
            valid &= side.notna()
    return result.fillna(False).astype(bool) & valid


def by_unique(column: pd.Series, function) -> pd.Series:
    """`function` applied to each distinct non-missing value, mapped back (NaN stays NaN).

    Answers repeat a few distinct strings over thousands of rows: working on the distinct values is what keeps
    select_multiple parsing fast at 1M rows (string splitting row by row took seconds).
    """
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    results = np.array([function(str(u)) for u in uniques] + [np.nan], dtype=object)
    return pd.Series(results[codes], index=column.index)


def selected_any(multiple: pd.Series, choices: tuple[str, ...]) -> pd.Series:
    """Whether a select_multiple answer (space-separated choice names) contains any of `choices`; NaN if unanswered."""
    wanted = set(choices)
    return by_unique(multiple, lambda answer: bool(wanted & set(answer.split())))


# ---------------------------------------------------------------------------------------------------------
# choice lists from an XLSForm


def read_form_choices(xlsx: str | Path) -> pd.DataFrame:
    """(variable, value, label) for every select question of an XLSForm, read with pandas (no pyxform needed).

    Used to check `success` values and to label exported microdata. The label is the first `label` column
    (e.g. `label::Español (es)`); select_one_from_file questions have no choices sheet entry and are skipped.
    """
    survey = pd.read_excel(xlsx, sheet_name="survey", dtype=str)
    choices = pd.read_excel(xlsx, sheet_name="choices", dtype=str)
    label = next((c for c in choices.columns if c.split("::")[0].strip() == "label"), None)
    choices = choices.dropna(subset=["list_name", "name"])
    choices = choices.assign(label=choices[label] if label else choices["name"])[["list_name", "name", "label"]]
    kinds = survey.dropna(subset=["type", "name"])["type"].str.strip().str.split(r"\s+", n=1, expand=True)
    selects = survey.dropna(subset=["type", "name"]).assign(kind=kinds[0], list_name=kinds.get(1))
    selects = selects[selects["kind"].isin(["select_one", "select_multiple"])]
    merged = selects[["name", "list_name"]].merge(choices, on="list_name", suffixes=("_q", ""))
    return merged.rename(columns={"name_q": "variable", "name": "value"})[["variable", "value", "label"]] \
        .reset_index(drop=True)


def read_form_fields(xlsx: str | Path) -> pd.DataFrame:
    """(name, type, label) of every question of an XLSForm's survey sheet: types say which fields are free text,
    GPS or device identifiers (left out of exported microdata), labels become variable labels."""
    survey = pd.read_excel(xlsx, sheet_name="survey", dtype=str).dropna(subset=["type", "name"])
    label = next((c for c in survey.columns if c.split("::")[0].strip() == "label"), None)
    kind = survey["type"].str.strip().str.split(r"\s+", n=1).str[0]
    return pd.DataFrame({"name": survey["name"].str.strip(), "type": kind,
                         "label": survey[label] if label else survey["name"]}).reset_index(drop=True)
