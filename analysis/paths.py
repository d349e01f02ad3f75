"""The project's data folder and the synthetic frame's file, without numpy or pandas: `sdg16 sample --help` shows
them as defaults and should start at once (benchmarks/cli_startup.py). The folder is forms.paths' (data/ of the
checkout, or sdg16/data in an installed wheel), named once."""

from forms.paths import DATA_DIR as DATA

FRAME_FILE = DATA / "frame_trujillo_synthetic.csv"
