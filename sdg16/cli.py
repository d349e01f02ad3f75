"""The `sdg16` console script: one Typer app whose command groups live beside the parts they drive.

Each group is defined next to the code it calls (forms, collect, analysis, dashboard) and only registered here,
so this file stays a table of contents.
"""

import typer

from sdg16 import (
    analysis_commands,
    collect_commands,
    dashboard_commands,
    demo_commands,
    forms_commands,
    geography_commands,
)

app = typer.Typer(help="sdg16-survey: SDG 16 perception surveys from XLSForm to weighted estimates.", no_args_is_help=True)
app.add_typer(forms_commands.app, name="forms")
app.add_typer(collect_commands.app)
app.add_typer(demo_commands.app, name="demo")
app.add_typer(geography_commands.app, name="geography")
app.command("estimate")(analysis_commands.estimate)
app.add_typer(analysis_commands.export_app, name="export")
app.add_typer(analysis_commands.margins_app, name="margins")
app.add_typer(dashboard_commands.app)

if __name__ == "__main__":
    app()
