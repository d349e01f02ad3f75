"""A SYNTHETIC frame of blocks (manzanas) for the shipped Trujillo neighbourhoods, so the demo runs the whole chain.

Why: a real frame (INEI's block listing with dwelling counts, or the municipality's cadastre) is not public here;
the planner, the form's block list and the weights still need one to run end to end. Every number is made up from
the neighbourhood populations the project already assumes (data/neighbourhoods.csv × data/population_trujillo_2017.csv)
and stated rules, with a fixed seed:
- dwellings in an area = population / 3.8 persons per dwelling (about Peru's urban average in the 2017 census);
- blocks with lognormal sizes around 40 dwellings (5 to 150), until the area's dwellings are used up;
- coordinates scattered around the neighbourhood centroid (drawing aids only).
Reproduce `data/frame_trujillo_synthetic.csv` with `sdg16 sample synthetic-frame` (a test checks the file).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.paths import DATA

PERSONS_PER_DWELLING = 3.8
MEAN_BLOCK, MIN_BLOCK, MAX_BLOCK = 40, 5, 150
SEED = 2017


def block_prefix(name: str) -> str:
    """A short code per area: initials of a multi-word name (`alto_trujillo` → AT), else three letters."""
    parts = name.split("_")
    return ("".join(p[0] for p in parts) if len(parts) > 1 else name[:3]).upper()


def synthetic_frame(neighbourhoods: pd.DataFrame, districts: pd.DataFrame, seed: int = SEED) -> pd.DataFrame:
    """One row per synthetic block: block, neighbourhood, district, dwellings, description, lat, lon, synthetic."""
    rng = np.random.default_rng(seed)
    population = neighbourhoods["district"].map(districts.set_index("district")["population_2017"])
    rows = []
    for area, pop in zip(neighbourhoods.itertuples(), population * neighbourhoods["population_share"]):
        total = round(pop / PERSONS_PER_DWELLING)
        sizes = []
        while sum(sizes) < total:
            size = int(np.clip(np.round(rng.lognormal(np.log(MEAN_BLOCK), 0.5)), MIN_BLOCK, MAX_BLOCK))
            sizes.append(min(size, total - sum(sizes)) if total - sum(sizes) >= MIN_BLOCK else size)
        prefix = block_prefix(area.name)
        for k, size in enumerate(sizes, start=1):
            rows.append(
                {
                    "block": f"{prefix}-{k:04d}",
                    "neighbourhood": area.name,
                    "district": area.district,
                    "dwellings": size,
                    "description": f"{area.label}, manzana {k}",
                    "lat": round(area.lat + rng.normal(0, 0.006), 5),
                    "lon": round(area.lon + rng.normal(0, 0.006), 5),
                    "synthetic": "yes",
                }
            )
    return pd.DataFrame(rows)


def synthetic_frame_from(data: Path = DATA, seed: int = SEED) -> pd.DataFrame:
    return synthetic_frame(
        pd.read_csv(data / "neighbourhoods.csv"), pd.read_csv(data / "population_trujillo_2017.csv"), seed
    )
