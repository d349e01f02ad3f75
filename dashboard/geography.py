"""Approximate neighbourhood polygons for the choropleth map, made from the centroids in data/neighbourhoods.csv.

No official boundary file of these neighbourhoods was available, so each area is drawn as its Voronoi cell (the
points closer to its centroid than to any other) cut to a disc of RADIUS_KM around the centroid. The result is
clearly approximate — the map says so — and is replaced by dropping a real GeoJSON with the same `name`
property into data/. Regenerate with `python -m dashboard.geography`.
"""

import json
import math

import pandas as pd

from analysis.margins import DATA  # the project's data/ folder, named once
RADIUS_KM = 3.0
KM_PER_DEGREE = 111.32
DISC_VERTICES = 48


def cells(places: pd.DataFrame, radius_km: float = RADIUS_KM) -> dict:
    """A GeoJSON FeatureCollection with one polygon per row of `places` (name, label, district, lat, lon)."""
    x_scale = math.cos(math.radians(places["lat"].mean()))  # local plane: x = lon·cos(lat), y = lat, in degrees
    points = [(lon * x_scale, lat) for lon, lat in zip(places["lon"], places["lat"])]
    radius = radius_km / KM_PER_DEGREE
    features = []
    for i, (place, centre) in enumerate(zip(places.itertuples(), points)):
        polygon = _disc(centre, radius)
        for j, other in enumerate(points):
            if j != i:
                polygon = _clip_to_nearer_half(polygon, centre, other)
        ring = [[round(x / x_scale, 5), round(y, 5)] for x, y in polygon]
        features.append(
            {
                "type": "Feature",
                "properties": {"name": place.name, "label": place.label, "district": place.district},
                "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
            }
        )
    return {
        "type": "FeatureCollection",
        "name": "neighbourhoods (approximate)",
        "description": f"APPROXIMATE: Voronoi cells of the centroids in neighbourhoods.csv cut to {radius_km} km discs"
        "; not official boundaries.",
        "features": features,
    }


def _disc(centre: tuple[float, float], radius: float) -> list[tuple[float, float]]:
    cx, cy = centre
    angles = (2 * math.pi * k / DISC_VERTICES for k in range(DISC_VERTICES))
    return [(cx + radius * math.cos(a), cy + radius * math.sin(a)) for a in angles]


def _clip_to_nearer_half(polygon, centre, other):
    """Sutherland–Hodgman clip of a convex polygon to the half-plane of points nearer `centre` than `other`."""
    (ax, ay), (bx, by) = centre, other
    nx, ny = bx - ax, by - ay
    offset = (bx * bx + by * by - ax * ax - ay * ay) / 2

    def side(p):  # < 0 on centre's side of the perpendicular bisector
        return nx * p[0] + ny * p[1] - offset

    clipped = []
    for k, current in enumerate(polygon):
        previous = polygon[k - 1]
        s_prev, s_cur = side(previous), side(current)
        if (s_prev < 0) != (s_cur < 0):
            t = s_prev / (s_prev - s_cur)
            clipped.append((previous[0] + t * (current[0] - previous[0]), previous[1] + t * (current[1] - previous[1])))
        if s_cur < 0:
            clipped.append(current)
    return clipped


def load() -> dict:
    """The shipped (approximate) neighbourhood GeoJSON."""
    return json.loads((DATA / "neighbourhoods.geojson").read_text(encoding="utf-8"))


if __name__ == "__main__":
    collection = cells(pd.read_csv(DATA / "neighbourhoods.csv"))
    (DATA / "neighbourhoods.geojson").write_text(json.dumps(collection, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(collection['features'])} approximate polygons to {DATA / 'neighbourhoods.geojson'}")
