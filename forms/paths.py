"""Where the forms, their build and the data live, without pyxform: the command line's options name these
folders in `--help`, which should start at once (benchmarks/cli_startup.py)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FORMS_DIR = REPO_ROOT / "forms"
# In the checkout, data/ and _build/ sit beside the packages; an installed wheel carries data/ as sdg16/data
# (setup.py) and builds into ./_build/forms of the working folder, never into site-packages.
IN_CHECKOUT = (REPO_ROOT / "data").is_dir()
DATA_DIR = REPO_ROOT / "data" if IN_CHECKOUT else REPO_ROOT / "sdg16" / "data"
BUILD_DIR = (REPO_ROOT if IN_CHECKOUT else Path()) / "_build" / "forms"
RELEASES = FORMS_DIR / "releases.csv"
