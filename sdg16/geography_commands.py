"""`sdg16 geography import FILE.geojson`: neighbourhood limits for the Estimates map (dashboard.geography).

Registered in sdg16/cli.py with `app.add_typer(geography_commands.app, name="geography")`. pandas and the modules
using it are imported inside the command, so that `--help` starts at once (benchmarks/cli_startup.py).
"""

from pathlib import Path

import typer

app = typer.Typer(help="Límites de barrios para el mapa / Neighbourhood limits for the map.", no_args_is_help=True)


@app.command("import")
def import_(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="GeoJSON FeatureCollection")) -> None:
    """Keep neighbourhood limits (a GeoJSON FeatureCollection of Polygons, property `name` = the codes of
    data/neighbourhoods.csv) in the data folder: the Estimates map draws them instead of points."""
    import pandas as pd

    from analysis.paths import DATA
    from collect.database import data_dir
    from dashboard.geography import GeographyError, import_boundaries

    try:
        count = import_boundaries(file, data_dir(), pd.read_csv(DATA / "neighbourhoods.csv"))
    except GeographyError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{count} límites de barrios guardados / neighbourhood limits kept.")
