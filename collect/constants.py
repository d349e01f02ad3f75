"""Names the command line shows in `--help` before it imports SQLAlchemy or qrcode, so that it starts at once
(benchmarks/cli_startup.py)."""

DEFAULT_PROJECT = "sdg16"
