"""The survey design object, modelled on R survey's `svydesign(ids=~psu, strata=~stratum, weights=~w, nest=TRUE)`.

A `Design` holds the respondents (all of them: domains are estimated later as sub-populations, never by dropping
rows), the columns that define strata, primary sampling units (PSUs) and design weights, the current (possibly
calibrated) weights, and the calibration steps that the variance must take into account, exactly as R stores
them in `design$postStrata`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from analysis.errors import DesignError

LONELY_PSU_OPTIONS = ("adjust", "average", "certainty", "remove", "fail")


@dataclass(frozen=True, eq=False)
class CalibrationStep:
    """One post-stratification step, as R's `postStratify()` records it in `design$postStrata`.

    `cells` gives, per row, the index of its cell in `labels`; `weights` are the weights right after the step and
    `oldweights` those right before it. The variance uses them to take residuals within cells (R's `svyrecvar`).
    `raking` marks a margin of a raking run: R residualises those with ten sweeps of unweighted cell means
    (`ave`) instead of the post-stratification projection, and so do we.
    """

    cells: np.ndarray
    labels: pd.DataFrame
    weights: np.ndarray
    oldweights: np.ndarray
    raking: bool = False


@dataclass(frozen=True, eq=False)
class Raking:
    """The margins of the last raking iteration, kept together as R keeps them (class "raking")."""

    margins: tuple[CalibrationStep, ...]


@dataclass(frozen=True, eq=False)
class Design:
    """A stratified cluster design with its current weights and calibration history.

    Codes are positional (row i of `data`). PSU codes are numbered stratum by stratum, so the PSUs of a stratum
    are contiguous: the variance sums per stratum with one `np.add.reduceat` call.
    """

    data: pd.DataFrame
    strata: str | None
    psu: str | None
    weight: str | None
    lonely_psu: str
    nest: bool
    weights: np.ndarray
    design_weights: np.ndarray
    stratum_codes: np.ndarray
    stratum_labels: pd.Index
    psu_codes: np.ndarray
    psu_stratum: np.ndarray
    calibration: tuple[CalibrationStep | Raking, ...] = field(default=())
    fpc: str | None = None
    sampling_fraction: np.ndarray | None = None  # per stratum, n_h/N_h (R's fpc), None without fpc
    adjust_domain_lonely: bool = False  # R's options(survey.adjust.domain.lonely)

    @property
    def n(self) -> int:
        return len(self.data)

    @property
    def n_psu(self) -> int:
        return len(self.psu_stratum)

    @property
    def psu_per_stratum(self) -> np.ndarray:
        """Number of PSUs in each stratum of the full design (R's `fpc$sampsize`)."""
        return np.bincount(self.psu_stratum, minlength=len(self.stratum_labels))

    @property
    def calibrated(self) -> bool:
        return bool(self.calibration)


def make_design(
    df: pd.DataFrame,
    strata: str | None = None,
    psu: str | None = None,
    weight: str | None = None,
    lonely_psu: str = "adjust",
    *,
    nest: bool = True,
    fpc: str | None = None,
    adjust_domain_lonely: bool = False,
) -> Design:
    """Build the design, checking every column it relies on.

    `psu=None` makes each respondent its own PSU (R `ids=~1`); `weight=None` gives every respondent weight 1;
    `nest=True` (R `nest=TRUE`) treats PSU codes as unique only within their stratum, which is how field teams
    number blocks. `lonely_psu` follows R's `options(survey.lonely.psu)`: a stratum with a single PSU adds its
    PSU's squared deviation from the overall mean ("adjust"), adds nothing ("certainty", "remove": identical in
    R survey 4.1's Taylor variance), is replaced by the other strata's average ("average": the sum over the
    other strata scaled by strata / strata with more than one PSU), or is an error ("fail", raised here, before
    any estimate). `adjust_domain_lonely` is R's `options(survey.adjust.domain.lonely)`: a domain with members in
    a single PSU of a stratum that has several (uncalibrated designs only, as in R) is then treated by the
    lonely-PSU rule instead of being centred on the padded zeros.

    `fpc` is R's `fpc=`: a column holding, per stratum, the population number of PSUs (N_h) or the sampling
    fraction n_h/N_h (all values ≤ 1); the variance is multiplied by 1 − n_h/N_h (0 for a census stratum).
    Without weights, the weights are then N_h/n_h, as R derives them.
    """
    if lonely_psu not in LONELY_PSU_OPTIONS:
        raise DesignError(f"lonely_psu must be one of {', '.join(LONELY_PSU_OPTIONS)}; got {lonely_psu!r}")
    if not isinstance(df, pd.DataFrame):
        raise DesignError(f"the responses must be a pandas DataFrame, not {type(df).__name__}")
    if len(df) == 0:
        raise DesignError("the responses are empty: no respondent to build a design from")
    for role, column in (("strata", strata), ("psu", psu), ("weight", weight)):
        if column is not None and column not in df.columns:
            raise DesignError(f"{role} column {column!r} is not in the responses")
    if fpc is not None and fpc not in df.columns:
        raise DesignError(f"fpc column {fpc!r} is not in the responses")
    stratum_codes, stratum_labels = _codes(df, strata, "strata")
    psu_codes, psu_stratum = _psu_codes(df, psu, stratum_codes, nest)
    n_h = np.bincount(psu_stratum, minlength=len(stratum_labels))
    fraction = None if fpc is None else _sampling_fraction(df, fpc, stratum_codes, stratum_labels, n_h)
    weights = _design_weights(df, weight) if weight is not None or fraction is None else 1 / fraction[stratum_codes]
    design = Design(
        data=df,
        strata=strata,
        psu=psu,
        weight=weight,
        lonely_psu=lonely_psu,
        nest=nest,
        weights=weights,
        design_weights=weights,
        stratum_codes=stratum_codes,
        stratum_labels=stratum_labels,
        psu_codes=psu_codes,
        psu_stratum=psu_stratum,
        fpc=fpc,
        sampling_fraction=fraction,
        adjust_domain_lonely=adjust_domain_lonely,
    )
    lonely = stratum_labels[design.psu_per_stratum == 1]
    if lonely_psu == "fail" and len(lonely):
        raise DesignError(
            f"stratum {strata!r} = {', '.join(map(str, lonely))} has only one PSU (lonely_psu='fail'); "
            "choose 'adjust', 'certainty' or 'remove', or merge the stratum with a neighbour"
        )
    return design


def with_fpc(design: Design, population_psus: pd.Series) -> Design:
    """The design with a first-stage finite population correction taken from a frame: `population_psus` gives, per
    stratum label, the number of PSUs (blocks) in the frame, i.e. R's `svydesign(..., fpc = ~N_h)` when only the
    first stage is given (certainty strata, n_h = N_h, add no first-stage variance)."""
    counts = pd.to_numeric(population_psus, errors="coerce")
    labels = [str(label) for label in design.stratum_labels]
    lookup = {str(k): v for k, v in counts.items()}
    missing = [label for label in labels if label not in lookup]
    if missing:
        raise DesignError(f"fpc: stratum {', '.join(missing[:5])} is not in the frame")
    population = np.array([lookup[label] for label in labels], dtype=float)
    over = [label for label, n, big in zip(labels, design.psu_per_stratum, population, strict=True) if not n <= big]
    if over:
        raise DesignError(f"fpc: stratum {', '.join(over[:5])} has more sampled PSUs than the frame has")
    return replace(design, sampling_fraction=np.minimum(design.psu_per_stratum / population, 1.0))


def degf(design: Design, in_domain: np.ndarray | None = None) -> int:
    """Design degrees of freedom as R's `degf()`: PSUs minus strata among rows with non-zero weight.

    For a domain (R: `subset()` of the design), count only the domain's rows.
    """
    rows = np.ones(design.n, bool) if in_domain is None else in_domain
    psus = np.unique(design.psu_codes[rows])
    return int(len(psus) - len(np.unique(design.psu_stratum[psus])))


def _sampling_fraction(df, fpc, stratum_codes, stratum_labels, n_h) -> np.ndarray:
    """n_h/N_h per stratum from R's fpc column (population PSU counts, or fractions when every value is ≤ 1)."""
    raw = df[fpc]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    if np.isnan(values).any():
        examples = ", ".join(repr(v) for v in raw[np.isnan(values)].unique()[:3])
        raise DesignError(
            f"fpc column {fpc!r} must hold numbers (population PSUs or sampling fractions); got {examples}"
        )
    lowest = np.full(len(stratum_labels), np.inf)
    highest = np.full(len(stratum_labels), -np.inf)
    np.minimum.at(lowest, stratum_codes, values)
    np.maximum.at(highest, stratum_codes, values)
    varying = stratum_labels[lowest != highest]
    if len(varying):
        raise DesignError(
            f"fpc column {fpc!r} differs within stratum {', '.join(map(str, varying[:5]))}: it is "
            "one number per stratum"
        )
    if (lowest <= 0).any():
        raise DesignError(f"fpc column {fpc!r} must be positive")
    fraction = lowest if (lowest <= 1).all() else n_h / lowest
    too_many = stratum_labels[fraction > 1 + 1e-12]
    if len(too_many):
        raise DesignError(
            f"fpc column {fpc!r}: stratum {', '.join(map(str, too_many[:5]))} has more sampled PSUs "
            "than its population count"
        )
    return np.minimum(fraction, 1.0)


def _design_weights(df: pd.DataFrame, weight: str | None) -> np.ndarray:
    """Weights as floats; anything non-numeric, missing, infinite, zero or negative is an error naming rows."""
    if weight is None:
        return np.ones(len(df))
    raw = df[weight]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad_text = np.isnan(values) & raw.notna().to_numpy()
    if bad_text.any():
        examples = ", ".join(repr(v) for v in raw[bad_text].unique()[:3])
        raise DesignError(f"weight column {weight!r} has {bad_text.sum()} non-numeric value(s), e.g. {examples}")
    for problem, mask in (
        ("missing", np.isnan(values)),
        ("infinite", np.isinf(values)),
        ("zero or negative", values <= 0),
    ):
        if mask.any():
            rows = ", ".join(map(str, df.index[mask][:5]))
            raise DesignError(f"weight column {weight!r} has {mask.sum()} {problem} value(s) (rows {rows})")
    return values


def _codes(df: pd.DataFrame, column: str | None, role: str) -> tuple[np.ndarray, pd.Index]:
    if column is None:
        return np.zeros(len(df), dtype=np.int64), pd.Index(["all"])
    codes, labels = pd.factorize(df[column], sort=True)
    if (codes < 0).any():
        raise DesignError(f"{role} column {column!r} is missing for {(codes < 0).sum()} respondent(s)")
    return codes.astype(np.int64), pd.Index(labels)


def _psu_codes(df: pd.DataFrame, psu: str | None, stratum_codes: np.ndarray, nest: bool):
    """PSU codes numbered stratum by stratum, and the stratum of each PSU."""
    if psu is None:
        raw = np.arange(len(df), dtype=np.int64)
    else:
        raw, labels = pd.factorize(df[psu], sort=True)
        if (raw < 0).any():
            raise DesignError(f"psu column {psu!r} is missing for {(raw < 0).sum()} respondent(s)")
        if not nest:
            pairs = pd.DataFrame({"psu": raw, "stratum": stratum_codes}).drop_duplicates()
            crossing = pairs["psu"][pairs["psu"].duplicated()]
            if len(crossing):
                names = ", ".join(str(labels[c]) for c in crossing.unique()[:5])
                raise DesignError(
                    f"psu {names} of column {psu!r} appear(s) in more than one stratum; "
                    "use nest=True if PSU codes are only unique within a stratum"
                )
    key = stratum_codes * (int(raw.max()) + 1) + raw
    uniq, codes = np.unique(key, return_inverse=True)
    psu_stratum = uniq // (int(raw.max()) + 1)
    return codes.astype(np.int64), psu_stratum.astype(np.int64)
