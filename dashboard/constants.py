"""The account roles and the demo round's seed, without the store or Streamlit: `sdg16 user --help` and
`sdg16 demo --help` show them and should start at once (benchmarks/cli_startup.py)."""

ROLES = ("admin", "coordinator", "researcher")
DEMO_SEED = 16_2030
