"""`sdg16 sample plan` and `sdg16 sample synthetic-frame`: the round's sample from the command line.

The computation is `analysis.sampling` (pure); this file reads the CSVs and writes the plan's files.

Registered in sdg16/cli.py:
    app.add_typer(sample_commands.app, name="sample")

pandas, scipy and the modules using them are imported inside the commands, so that `--help` starts at once
(benchmarks/cli_startup.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from analysis.errors import AnalysisError
from analysis.paths import DATA, FRAME_FILE

if TYPE_CHECKING:
    import pandas as pd

    from analysis import sampling

app = typer.Typer(
    help="Muestra probabilística / probability sample: frame → blocks → assignments.", no_args_is_help=True
)
SHIPPED_PLAN = {"moe": 0.12, "p": 0.5, "deff": 1.5, "response_rate": 0.7, "per_block": 8, "seed": 2026}


@app.command("plan")
def plan(
    frame: Path = typer.Option(
        ..., "--frame", help="Frame CSV: block, neighbourhood, dwellings[, district, description, lat, lon]."
    ),
    out: Path = typer.Option(..., "--out", help="Folder for blocks.csv, assignments, targets."),
    moe: float = typer.Option(0.05, help="Margin of error wanted per neighbourhood (0.05 = ±5 points)."),
    p: float = typer.Option(0.5, help="Expected share (0.5 is the safest)."),
    deff: float = typer.Option(1.5, help="Design effect expected from clustering."),
    response_rate: float = typer.Option(0.7, help="Share of visited dwellings expected to give an interview."),
    per_block: int = typer.Option(8, help="Completed interviews per block."),
    seed: int = typer.Option(None, help="Random seed (recorded in plan.json; drawn when not given)."),
    sizes: Path = typer.Option(None, help="CSV neighbourhood, interviews: sizes instead of the moe formula."),
    volunteers: Path = typer.Option(None, help="CSV volunteer[, neighbourhood]: who walks which blocks."),
    neighbourhoods: Path = typer.Option(DATA / "neighbourhoods.csv", help="The form's neighbourhood list."),
) -> None:
    """Plan a round: sizes, PPS draw of blocks, dwellings per block, volunteers' lists, monitoring targets."""
    from analysis import sampling

    spec = sampling.SampleSpec(moe=moe, p=p, deff=deff, response_rate=response_rate, per_block=per_block, seed=seed)
    try:
        drawn = sampling.plan_sample(
            sampling.read_frame(_read(frame), _read(neighbourhoods)),
            spec,
            sampling.read_sizes(_read(sizes)) if sizes else None,
            _read(volunteers) if volunteers else None,
        )
    except AnalysisError as error:
        _fail(str(error))
    for path in write_files(sampling.plan_files(drawn), out):
        typer.echo(f"escrito / wrote {path}")
    typer.echo(
        f"{len(drawn.blocks)} manzanas en {len(drawn.areas)} barrios, {drawn.assignments.shape[0]} viviendas a "
        f"visitar, semilla {drawn.spec.seed} / {len(drawn.blocks)} blocks in {len(drawn.areas)} areas, "
        f"{drawn.assignments.shape[0]} dwellings to visit, seed {drawn.spec.seed}"
    )


@app.command("synthetic-frame")
def synthetic(
    out: Path = typer.Option(FRAME_FILE, "--out", help="Where to write the frame."),
    blocks: Path = typer.Option(
        DATA / "blocks.csv", "--blocks", help="Where to write its seeded plan (the form's blocks.csv media file)."
    ),
) -> None:
    """Write the SYNTHETIC Trujillo frame and its seeded plan (data/frame_trujillo_synthetic.csv, data/blocks.csv)."""
    for path in write_synthetic(out, blocks):
        typer.echo(f"escrito / wrote {path}")


def write_synthetic(frame_path: Path, blocks_path: Path, data: Path = DATA) -> list[Path]:
    """The shipped synthetic frame and `blocks.csv` = `sdg16 sample plan` of it with SHIPPED_PLAN (a test checks)."""
    import pandas as pd

    from analysis import sampling, synthetic_frame

    frame = synthetic_frame.synthetic_frame_from(data)
    frame_path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(frame_path, index=False, lineterminator="\n")
    drawn = shipped_plan(frame, pd.read_csv(data / "neighbourhoods.csv"))
    blocks_path.write_bytes(sampling.plan_files(drawn)["blocks.csv"])
    return [frame_path, blocks_path]


def shipped_plan(frame: pd.DataFrame, neighbourhoods: pd.DataFrame) -> sampling.SamplePlan:
    from analysis import sampling

    return sampling.plan_sample(sampling.read_frame(frame, neighbourhoods), sampling.SampleSpec(**SHIPPED_PLAN))


def write_files(files: dict[str, bytes], out: Path) -> list[Path]:
    paths = []
    for name, content in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        paths.append(path)
    return paths


def _read(path: Path) -> pd.DataFrame:
    import pandas as pd

    if not path.is_file():
        _fail(f"no existe el archivo / file not found: {path}")
    if path.suffix.lower() == ".xlsx":
        return pd.read_excel(path, dtype=str)
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def _fail(message: str):
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(1)
