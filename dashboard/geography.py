"""The places the maps draw: INEI's district limits, and neighbourhood limits only where a user supplied them.

Districts: data/trujillo_districts_inei2023.geojson, the 11 districts of Trujillo province (INEI district limits,
IDE-INEI 2023 update, simplified to ~300 m; CC BY 4.0, so every map shows ATTRIBUTION). Neighbourhood limits are
not published, and the project does not invent them: a neighbourhood is drawn as a labelled point at its centroid
(data/neighbourhoods.csv, itself approximate) unless a coordinator imports real boundaries with
`sdg16 geography import FILE.geojson` (one Polygon/MultiPolygon feature per neighbourhood, property `name` = the
codes of neighbourhoods.csv), which are kept in the data folder and drawn instead.
"""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import pandas as pd

from analysis.paths import DATA  # the project's data/ folder, named once

DISTRICTS_FILE = DATA / "trujillo_districts_inei2023.geojson"
ATTRIBUTION = "Límites distritales: INEI (IDE-INEI, 2023), CC BY 4.0"
BOUNDARIES_FILE = "neighbourhood_boundaries.geojson"  # in the data folder, written by `sdg16 geography import`


class GeographyError(ValueError):
    """A boundary file that cannot be used; the message says why (Spanish / English)."""


def districts() -> dict:
    """INEI's district limits as GeoJSON, each feature with `ubigeo`, `district` (name) and `code` (the
    district codes of data/neighbourhoods.csv, e.g. el_porvenir)."""
    collection = json.loads(DISTRICTS_FILE.read_text(encoding="utf-8"))
    for feature in collection["features"]:
        feature["properties"]["code"] = district_code(feature["properties"]["district"])
    return collection


def district_code(name: str) -> str:
    """`Víctor Larco Herrera` → `victor_larco_herrera`: the codes neighbourhoods.csv uses."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "_".join(plain.lower().split())


def boundaries_path(data_dir: Path) -> Path:
    return data_dir / BOUNDARIES_FILE


def neighbourhood_boundaries(data_dir: Path) -> dict | None:
    """The neighbourhood limits a user imported, or None (then neighbourhoods are drawn as points)."""
    path = boundaries_path(data_dir)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def import_boundaries(source: Path, data_dir: Path, neighbourhoods: pd.DataFrame) -> int:
    """Check a GeoJSON of neighbourhood limits and keep it in `data_dir`; how many neighbourhoods it draws.

    Refused, with nothing kept: not a FeatureCollection, a feature that is not a (Multi)Polygon, or a `name`
    that is not a neighbourhood code of neighbourhoods.csv.
    """
    try:
        collection = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise GeographyError(f"No se puede leer el GeoJSON / Cannot read the GeoJSON: {error}") from None
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise GeographyError(
            "El archivo no es una FeatureCollection de GeoJSON / The file is not a GeoJSON FeatureCollection"
        )
    known = set(neighbourhoods["name"])
    for number, feature in enumerate(collection.get("features", []), start=1):
        kind = (feature.get("geometry") or {}).get("type")
        name = (feature.get("properties") or {}).get("name")
        if kind not in ("Polygon", "MultiPolygon"):
            raise GeographyError(
                f"Elemento {number}: geometría {kind!r}, se espera Polygon o MultiPolygon / "
                f"feature {number}: geometry {kind!r}, expected Polygon or MultiPolygon"
            )
        if name not in known:
            raise GeographyError(
                f"Elemento {number}: 'name' {name!r} no es un barrio de neighbourhoods.csv / "
                f"feature {number}: 'name' {name!r} is not a neighbourhood of neighbourhoods.csv"
            )
    if not collection.get("features"):
        raise GeographyError("El archivo no tiene elementos / The file has no features")
    target = boundaries_path(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, target)
    return len(collection["features"])
