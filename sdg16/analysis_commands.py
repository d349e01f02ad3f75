"""`sdg16 estimate`, `sdg16 export microdata`, `sdg16 margins default`: the analysis from the command line.

The CLI is the one place allowed to join the parts: it reads responses from a CSV export or from the store
(`collect.store`), the choice labels from the XLSForm, and hands DataFrames to `analysis/`, which imports
nothing of the project.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from analysis import margins as margins_module

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
DEFAULT_PLAN = ROOT / "analysis" / "plans" / "sdg16.toml"

margins_app = typer.Typer(help="Raking margins (population totals).", no_args_is_help=True)


@margins_app.command("default")
def margins_default(out: Path = typer.Option(ROOT / "analysis" / "plans", help="Folder for the three files."),
                    data: Path = typer.Option(DATA, help="Folder with neighbourhoods.csv and "
                                                          "population_trujillo_2017.csv.")) -> None:
    """Write margins_sex.csv, margins_age.csv and margins_default.md (the stated assumption) from data/."""
    written = write_default_margins(out, data)
    for path in written:
        typer.echo(f"wrote {path}")


def write_default_margins(out: Path, data: Path = DATA) -> list[Path]:
    """The files committed under analysis/plans/, reproducible from data/ (a test checks they are equal)."""
    made = margins_module.default_margins(pd.read_csv(data / "neighbourhoods.csv"),
                                          pd.read_csv(data / "population_trujillo_2017.csv"))
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "margins_sex.csv", out / "margins_age.csv", out / "margins_default.md"]
    made.sex.to_csv(paths[0], index=False, lineterminator="\n")
    made.age.to_csv(paths[1], index=False, lineterminator="\n")
    paths[2].write_text("# Default raking margins\n\nMade by `sdg16 margins default --out analysis/plans/`.\n\n"
                        + made.assumption.replace("\n", "\n\n") + "\n", encoding="utf-8")
    return paths
