"""The sample plan of a round: frame of blocks → sizes → PPS draw of blocks → dwellings per block → assignments.

Why a module of its own: the design weights of `analysis.nonresponse` are only as good as the selection
probabilities recorded at the draw, so the draw is computed here, reproducibly (a seed, written into the plan),
and every probability is written beside the block it belongs to (`prob_block` in `blocks.csv`, the form's media
file; field names in the fieldwork contract). Pure: DataFrames in, DataFrames (and file bytes) out.

Stages, per neighbourhood (the stratum):
1. Size. Completed interviews n = z²·p(1−p)·deff / moe² (or the size given for the area); blocks = ⌈n / per_block⌉
   (whole blocks of `per_block` completed interviews); dwellings to visit per block = ⌈per_block / response_rate⌉,
   so the issued sample blocks × take ≥ n / response_rate.
2. Blocks with probability proportional to size (dwellings) without replacement: certainty blocks first (a block
   with n·M_i / M ≥ 1 is taken with probability 1, repeatedly, the rest re-sized), then systematic PPS on the
   frame's order with a seeded random start r ∈ (0, I], interval I = M'/n': block i is drawn when a point
   r + k·I falls in its cumulated size range, so π_i = n'·M_i / M' exactly.
3. Dwellings within a block: fractional systematic sampling with interval I_b = dwellings / take and a random start
   s ∈ (0, I_b] (two decimals): dwelling numbers ⌈s + k·I_b⌉, k = 0..take−1, so P(dwelling | block) = take /
   dwellings. The numbers are listed (`dwelling_numbers`), so nobody computes them in the field.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from analysis.errors import AnalysisError

FRAME_COLUMNS = ("block", "neighbourhood", "dwellings")
BLOCK_COLUMNS = (
    "name",
    "label",
    "neighbourhood",
    "district",
    "prob_block",
    "dwellings",
    "take",
    "interval",
    "start",
    "volunteer",
    "dwelling_numbers",
    "certainty",
)
UNASSIGNED = ""


class SamplingError(AnalysisError):
    """A frame or a request that cannot give a sample; the message lists every problem, each naming its area."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class SampleSpec:
    """What the coordinator asks for: precision (moe at `level` for a share near p), the design effect expected
    from clustering, the response rate expected, completed interviews per block, and the seed of the draw."""

    moe: float = 0.05
    p: float = 0.5
    deff: float = 1.5
    response_rate: float = 0.7
    per_block: int = 8
    level: float = 0.95
    seed: int | None = None

    def check(self) -> None:
        problems = []
        if not 0 < self.moe < 1:
            problems.append(f"--moe debe estar entre 0 y 1 / must be between 0 and 1 (got {self.moe})")
        if not 0 < self.p < 1:
            problems.append(f"--p debe estar entre 0 y 1 / must be between 0 and 1 (got {self.p})")
        if self.deff < 1:
            problems.append(f"--deff debe ser ≥ 1 / must be ≥ 1 (got {self.deff})")
        if not 0 < self.response_rate <= 1:
            problems.append(f"--response-rate debe estar en (0, 1] / must be in (0, 1] (got {self.response_rate})")
        if not (isinstance(self.per_block, int) and self.per_block >= 1):
            problems.append(f"--per-block debe ser un entero ≥ 1 / must be a whole number ≥ 1 (got {self.per_block})")
        if not 0 < self.level < 1:
            problems.append(f"level must be between 0 and 1 (got {self.level})")
        if problems:
            raise SamplingError(problems)

    @property
    def interviews(self) -> int:
        """Completed interviews for the margin of error: ⌈z²·p(1−p)·deff / moe²⌉."""
        z = norm.ppf(0.5 + self.level / 2)
        return math.ceil(round(z**2 * self.p * (1 - self.p) * self.deff / self.moe**2, 9))

    @property
    def take(self) -> int:
        """Dwellings to visit in a block to end with `per_block` completed interviews: ⌈per_block / rr⌉."""
        return math.ceil(round(self.per_block / self.response_rate, 9))


@dataclass(frozen=True)
class SamplePlan:
    """The drawn sample: selected blocks (the media file's rows), the per-area summary, the dwellings to visit
    per volunteer, the monitoring targets, and the parameters (with the seed actually used)."""

    blocks: pd.DataFrame
    areas: pd.DataFrame
    assignments: pd.DataFrame
    targets: pd.DataFrame
    spec: SampleSpec


def read_frame(frame: pd.DataFrame, neighbourhoods: pd.DataFrame | None = None) -> pd.DataFrame:
    """Check a frame of blocks (`block`, `neighbourhood`, `dwellings`; optional `district`, `description`, `lat`,
    `lon`) and return it with clean types; `district` is filled from `neighbourhoods` when the frame lacks it."""
    missing = [c for c in FRAME_COLUMNS if c not in frame.columns]
    if missing:
        raise SamplingError(
            [
                f"el marco no tiene la(s) columna(s) {', '.join(missing)} / the frame lacks column(s) "
                f"{', '.join(missing)} (needs {', '.join(FRAME_COLUMNS)})"
            ]
        )
    frame = frame.copy()
    for column in ("block", "neighbourhood"):
        frame[column] = frame[column].astype("string").str.strip()
    problems = []
    empty = frame[frame["block"].isna() | (frame["block"] == "") | frame["neighbourhood"].isna()]
    if len(empty):
        problems.append(f"filas sin bloque o barrio / rows without block or neighbourhood: {_rows(empty.index)}")
    dwellings = pd.to_numeric(frame["dwellings"], errors="coerce")
    bad = frame[dwellings.isna() | (dwellings < 1) | (dwellings != dwellings.round())]
    if len(bad):
        problems.append(
            "`dwellings` debe ser un entero ≥ 1 / must be a whole number ≥ 1: "
            + ", ".join(f"{b} = {d!r}" for b, d in zip(bad["block"][:5], frame.loc[bad.index, "dwellings"][:5]))
        )
    repeated = frame["block"][frame["block"].duplicated()].dropna().unique()
    if len(repeated):
        problems.append(f"bloques repetidos / blocks listed twice: {', '.join(map(str, repeated[:10]))}")
    if neighbourhoods is not None:
        unknown = sorted(set(frame["neighbourhood"].dropna()) - set(neighbourhoods["name"]))
        if unknown:
            problems.append(
                f"barrios desconocidos / unknown neighbourhoods (not in neighbourhoods.csv): {', '.join(unknown)}"
            )
    if problems:
        raise SamplingError(problems)
    frame["dwellings"] = dwellings.astype("int64")
    if "district" not in frame.columns:
        districts = neighbourhoods.set_index("name")["district"] if neighbourhoods is not None else pd.Series()
        frame["district"] = frame["neighbourhood"].map(districts)
    return frame.reset_index(drop=True)


def read_sizes(sizes: pd.DataFrame) -> dict[str, int]:
    """A sizes table (`neighbourhood`, `interviews`: completed interviews wanted; 0 = area not sampled)."""
    if not {"neighbourhood", "interviews"} <= set(sizes.columns):
        raise SamplingError(
            [
                "el archivo de tamaños necesita las columnas neighbourhood, interviews / the sizes file "
                "needs columns neighbourhood, interviews"
            ]
        )
    n = pd.to_numeric(sizes["interviews"], errors="coerce")
    bad = sizes[n.isna() | (n < 0) | (n != n.round())]
    if len(bad):
        raise SamplingError(
            [
                f"`interviews` debe ser un entero ≥ 0 / must be a whole number ≥ 0: "
                f"{', '.join(map(str, bad['neighbourhood'][:5]))}"
            ]
        )
    return dict(zip(sizes["neighbourhood"].astype(str).str.strip(), n.astype(int)))


def plan_sample(
    frame: pd.DataFrame, spec: SampleSpec, sizes: dict[str, int] | None = None, volunteers: pd.DataFrame | None = None
) -> SamplePlan:
    """Draw the round's sample from a checked frame (`read_frame`), every area in the frame's order.

    One generator seeded with `spec.seed` (a fresh seed is drawn and recorded when it is None) draws the areas in
    turn, so the same frame, parameters and seed give the same blocks and dwellings. Every area whose frame is
    too small is named in one error before anything is drawn.
    """
    spec.check()
    seed = spec.seed if spec.seed is not None else int(np.random.SeedSequence().entropy % 2**31)
    spec = SampleSpec(**{**asdict(spec), "seed": seed})
    rng = np.random.default_rng(seed)
    areas = list(dict.fromkeys(frame["neighbourhood"]))
    unknown = sorted(set(sizes or {}) - set(areas))
    problems = (
        [
            f"el archivo de tamaños nombra barrios sin bloques en el marco / the sizes file names areas with no "
            f"block in the frame: {', '.join(unknown)}"
        ]
        if unknown
        else []
    )
    wanted = {a: (sizes or {}).get(a, spec.interviews) for a in areas}
    for area in areas:
        problems += _too_small(area, frame[frame["neighbourhood"] == area], wanted[area], spec)
    if problems:
        raise SamplingError(problems)
    blocks, summary = [], []
    for area in areas:
        if wanted[area] == 0:
            continue
        drawn, row = _draw_area(frame[frame["neighbourhood"] == area], wanted[area], spec, rng)
        blocks.append(drawn)
        summary.append(row)
    blocks = pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame(columns=BLOCK_COLUMNS)
    blocks = assign_volunteers(blocks, volunteers)
    return SamplePlan(
        blocks=blocks[list(BLOCK_COLUMNS)],
        areas=pd.DataFrame(summary),
        assignments=assignment_list(blocks),
        targets=targets(blocks, spec),
        spec=spec,
    )


def _too_small(area: str, frame: pd.DataFrame, interviews: int, spec: SampleSpec) -> list[str]:
    """An area cannot give `interviews` when it has fewer blocks than needed or too few dwellings to visit."""
    needed = math.ceil(interviews / spec.per_block)
    if needed > len(frame):
        return [
            f"{area}: el marco tiene {len(frame)} bloques y se necesitan {needed} ({interviews} entrevistas ÷ "
            f"{spec.per_block} por bloque) / the frame has {len(frame)} blocks, {needed} are needed; give this "
            "area a smaller size (--sizes) or a larger moe"
        ]
    issued = math.ceil(interviews / spec.response_rate)
    if frame["dwellings"].sum() < issued:
        return [
            f"{area}: el marco tiene {frame['dwellings'].sum()} viviendas y se necesitan {issued} / the frame has "
            f"{frame['dwellings'].sum()} dwellings, {issued} are needed to complete {interviews} interviews"
        ]
    return []


def pps_systematic(
    sizes: np.ndarray, n: int, start: float | None = None, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """Draw n units with probability proportional to `sizes`, without replacement, certainty units first.

    Returns (selected positions in frame order, inclusion probability of every unit, certainty mask, the random
    start r in (0, I], the interval I of the non-certainty part). `start` is given by tests; otherwise r = I·(1−U)
    with U from `rng`, so r is never 0.
    """
    sizes = np.asarray(sizes, dtype=float)
    if not 1 <= n <= len(sizes):
        raise SamplingError([f"cannot draw {n} of {len(sizes)} units"])
    certain = np.zeros(len(sizes), dtype=bool)
    while True:  # taking a certainty unit raises the others' n'·M_i/M': repeat until none reaches 1
        left = n - certain.sum()
        rest = sizes[~certain].sum()
        new = ~certain & (left * sizes >= rest) if left else np.zeros_like(certain)
        if not new.any():
            break
        certain |= new
    prob = np.where(certain, 1.0, 0.0)
    left = n - int(certain.sum())
    if left == 0:
        return np.flatnonzero(certain), prob, certain, 0.0, 0.0
    rest_sizes = np.where(certain, 0.0, sizes)
    interval = rest_sizes.sum() / left
    prob = np.where(certain, 1.0, rest_sizes / interval)
    if start is None:
        start = interval * (1.0 - rng.random())
    points = start + interval * np.arange(left)
    upper = np.cumsum(rest_sizes)  # unit i covers (upper_i − M_i, upper_i]
    hits = np.searchsorted(upper, points, side="left")
    selected = np.zeros(len(sizes), dtype=bool)
    selected[hits] = True
    return np.flatnonzero(selected | certain), prob, certain, float(start), float(interval)


def dwelling_numbers(dwellings: int, take: int, start: float) -> list[int]:
    """Fractional systematic selection in a block: ⌈start + k·dwellings/take⌉ for k = 0..take−1."""
    interval = dwellings / take
    return [min(dwellings, math.ceil(round(start + k * interval, 9))) for k in range(take)]


def _draw_area(frame: pd.DataFrame, interviews: int, spec: SampleSpec, rng: np.random.Generator):
    n_blocks = math.ceil(interviews / spec.per_block)
    selected, prob, certain, start, interval = pps_systematic(frame["dwellings"].to_numpy(), n_blocks, rng=rng)
    chosen = frame.iloc[selected].reset_index(drop=True)
    take = np.minimum(spec.take, chosen["dwellings"].to_numpy())
    within = chosen["dwellings"].to_numpy() / take
    starts = np.maximum(0.01, np.floor(within * (1.0 - rng.random(len(chosen))) * 100) / 100)
    numbers = [
        " ".join(map(str, dwelling_numbers(int(m), int(t), float(s))))
        for m, t, s in zip(chosen["dwellings"], take, starts)
    ]
    description = chosen["description"].astype(str) if "description" in chosen.columns else chosen["neighbourhood"]
    drawn = pd.DataFrame(
        {
            "name": chosen["block"].astype(str),
            "label": chosen["block"].astype(str) + " — " + description.astype(str),
            "neighbourhood": chosen["neighbourhood"].astype(str),
            "district": chosen["district"],
            "prob_block": np.round(prob[selected], 10),
            "dwellings": chosen["dwellings"],
            "take": take,
            "interval": np.round(within, 2),
            "start": starts,
            "volunteer": UNASSIGNED,
            "dwelling_numbers": numbers,
            "certainty": np.where(certain[selected], "yes", "no"),
        }
    )
    row = {
        "neighbourhood": frame["neighbourhood"].iloc[0],
        "frame_blocks": len(frame),
        "frame_dwellings": int(frame["dwellings"].sum()),
        "interviews": interviews,
        "blocks": n_blocks,
        "certainty_blocks": int(certain.sum()),
        "take_per_block": spec.take,
        "dwellings_to_visit": int(take.sum()),
        "expected_completes": round(float(take.sum()) * spec.response_rate, 1),
        "pps_interval": round(interval, 4),
        "pps_start": round(start, 4),
    }
    return drawn, row


def assign_volunteers(blocks: pd.DataFrame, volunteers: pd.DataFrame | None) -> pd.DataFrame:
    """Give each area's blocks, in draw order (the frame's geographic order), to its volunteers in consecutive
    runs of nearly equal length, so each walks neighbouring blocks. Volunteers listed without a neighbourhood
    share the areas nobody is listed for; an area with no volunteer keeps an empty `volunteer`."""
    if volunteers is None or volunteers.empty or blocks.empty:
        return blocks
    if "volunteer" not in volunteers.columns:
        raise SamplingError(
            ["la lista de voluntarios necesita una columna volunteer / the volunteers list needs a `volunteer` column"]
        )
    own = volunteers.get("neighbourhood", pd.Series(np.nan, index=volunteers.index)).astype("string").str.strip()
    shared = volunteers.loc[own.isna() | (own == ""), "volunteer"].astype(str).tolist()
    blocks = blocks.copy()
    for area, rows in blocks.groupby("neighbourhood", sort=False).groups.items():
        team = volunteers.loc[own == area, "volunteer"].astype(str).tolist() or shared
        if team:
            runs = np.array_split(np.asarray(rows), len(team))
            for name, run in zip(team, runs):
                blocks.loc[run, "volunteer"] = name
    return blocks


def assignment_list(blocks: pd.DataFrame) -> pd.DataFrame:
    """One row per dwelling to visit: volunteer, neighbourhood, block, its label, the dwelling number."""
    rows = blocks.assign(dwelling_number=blocks["dwelling_numbers"].str.split()).explode("dwelling_number")
    rows = rows[["volunteer", "neighbourhood", "district", "name", "label", "dwelling_number", "dwellings"]]
    return rows.rename(columns={"name": "block"}).reset_index(drop=True)


def targets(blocks: pd.DataFrame, spec: SampleSpec) -> pd.DataFrame:
    """Completed interviews per neighbourhood and per volunteer (`kind`, `key`, `target`), as the monitoring
    page's targets store them: `per_block` for every block drawn."""
    parts = [pd.DataFrame({"kind": "neighbourhood", "key": blocks["neighbourhood"]})]
    if (blocks["volunteer"] != UNASSIGNED).any():
        parts.append(
            pd.DataFrame({"kind": "volunteer", "key": blocks.loc[blocks["volunteer"] != UNASSIGNED, "volunteer"]})
        )
    table = pd.concat(parts).groupby(["kind", "key"], sort=False).size().mul(spec.per_block).rename("target")
    return table.reset_index()


def plan_files(plan: SamplePlan) -> dict[str, bytes]:
    """The plan as files: `blocks.csv` (the form's media file), `areas.csv`, `assignments.csv`, `targets.csv`,
    `plan.json` (parameters with the seed) and one printable list per volunteer (`lists/<name>.html`)."""
    files = {
        name: _csv(table)
        for name, table in (
            ("blocks.csv", plan.blocks),
            ("areas.csv", plan.areas),
            ("assignments.csv", plan.assignments),
            ("targets.csv", plan.targets),
        )
    }
    files["plan.json"] = json.dumps(
        {**asdict(plan.spec), "interviews_per_area": plan.spec.interviews, "take_per_block": plan.spec.take}, indent=2
    ).encode()
    for volunteer, rows in plan.blocks.groupby("volunteer", sort=True):
        files[f"lists/{_slug(volunteer or 'sin_asignar')}.html"] = printable_list(volunteer, rows).encode("utf-8")
    return files


def plan_zip(plan: SamplePlan) -> bytes:
    """`plan_files` in one ZIP archive (the coordinator page's download)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in plan_files(plan).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def printable_list(volunteer: str, blocks: pd.DataFrame) -> str:
    """A one-page list for a volunteer, Spanish first: each block, its dwelling count and the dwellings to visit."""
    rows = "".join(
        f"<tr><td>{_html(b['label'])}</td><td>{b['dwellings']}</td><td>{_html(b['dwelling_numbers'])}</td>"
        "<td></td></tr>"
        for _, b in blocks.iterrows()
    )
    who = _html(volunteer) if volunteer else "sin asignar / unassigned"
    return (
        "<!doctype html><html lang='es'><meta charset='utf-8'><title>Manzanas asignadas / Assigned blocks</title>"
        "<style>body{font-family:sans-serif}td,th{border:1px solid #444;padding:4px}table{border-collapse:collapse}"
        "</style>"
        f"<h1>Manzanas asignadas / Assigned blocks: {who}</h1>"
        "<p>Numere las viviendas de la manzana empezando por la esquina noroeste, en sentido horario, y visite solo "
        "los números de la lista (hasta 3 visitas). Registre cada visita en el formulario, también si nadie responde."
        "<br><i>Number the block's dwellings from the north-west corner, clockwise, and visit only the listed numbers "
        "(up to 3 visits). Send a form for every visit, even when nobody answers.</i></p>"
        "<table><tr><th>Manzana / Block</th><th>Viviendas / Dwellings</th><th>Visitar / Visit</th>"
        f"<th>Notas / Notes</th></tr>{rows}</table></html>"
    )


def _csv(table: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "volunteer"


def _html(text) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _rows(index: pd.Index) -> str:
    return ", ".join(str(i + 2) for i in index[:10])  # CSV line numbers (header is line 1)
