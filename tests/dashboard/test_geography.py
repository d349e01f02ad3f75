import json

import numpy as np
import pandas as pd

from dashboard.geography import DATA, RADIUS_KM, cells, load


def _inside(point, ring):
    """Ray casting: is `point` (lon, lat) inside the polygon `ring`?"""
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def test_each_cell_holds_its_centroid_and_no_other():
    places = pd.read_csv(DATA / "neighbourhoods.csv")
    features = cells(places)["features"]
    assert [f["properties"]["name"] for f in features] == list(places["name"])
    for i, feature in enumerate(features):
        ring = feature["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1]
        holds = [_inside((lon, lat), ring) for lon, lat in zip(places["lon"], places["lat"])]
        assert holds == [j == i for j in range(len(places))], feature["properties"]["name"]


def test_cells_are_cut_to_the_radius():
    places = pd.DataFrame({"name": ["a", "b"], "label": ["A", "B"], "district": ["d", "d"], "lat": [-8.0, -8.0], "lon": [-79.0, -78.9]})
    ring = np.array(cells(places)["features"][0]["geometry"]["coordinates"][0])
    km = np.hypot((ring[:, 0] + 79.0) * np.cos(np.radians(8.0)), ring[:, 1] + 8.0) * 111.32
    assert km.max() <= RADIUS_KM + 1e-3
    assert ring[:, 0].max() <= -78.95 + 1e-6  # never past the bisector with b


def test_the_shipped_file_is_what_the_script_makes_and_says_it_is_approximate():
    shipped = load()
    assert shipped == json.loads(json.dumps(cells(pd.read_csv(DATA / "neighbourhoods.csv"))))
    assert "APPROXIMATE" in shipped["description"]
