"""The synthetic frame's files, without numpy or pandas: `sdg16 sample --help` shows them as defaults and should
start at once (benchmarks/cli_startup.py)."""

from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
FRAME_FILE = DATA / "frame_trujillo_synthetic.csv"
