"""Maps drawn from the project's own GeoJSON with Vega-Lite (Altair): no map tiles, no request to any other host.

The district limits (dashboard.geography) are the background of every map; a map fills the width of the page
(the projection is fitted to the data), so on a 390 px phone the whole province is in view. Every map carries the
INEI attribution its licence asks for. Texts come in translated: this module only draws.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

HEIGHT = 460
BLUES = "blues"


def _shapes(collection: dict) -> alt.InlineData:
    return alt.InlineData(values=_for_d3(collection), format=alt.DataFormat(property="features", type="json"))


def _for_d3(collection: dict) -> dict:
    """The collection with its rings wound as d3-geo (Vega's projection) wants: exterior rings clockwise, holes
    counter-clockwise — the opposite of GeoJSON's RFC 7946, with which d3 fills the whole globe but the shape."""

    def wound(ring: list, clockwise: bool) -> list:
        area = sum(x0 * y1 - x1 * y0 for (x0, y0, *_), (x1, y1, *_) in zip(ring, ring[1:]))
        return ring[::-1] if (area < 0) != clockwise else ring

    def polygon(rings: list) -> list:
        return [wound(ring, clockwise=k == 0) for k, ring in enumerate(rings)]

    features = []
    for feature in collection["features"]:
        geometry = dict(feature["geometry"])
        if geometry["type"] == "Polygon":
            geometry["coordinates"] = polygon(geometry["coordinates"])
        elif geometry["type"] == "MultiPolygon":
            geometry["coordinates"] = [polygon(rings) for rings in geometry["coordinates"]]
        features.append({**feature, "geometry": geometry})
    return {**collection, "features": features}


def _background(collection: dict) -> alt.Chart:
    return alt.Chart(_shapes(collection)).mark_geoshape(fill="#f4f4f2", stroke="#8a8a8a", strokeWidth=0.8)


def _frame(layers: alt.LayerChart, attribution: str) -> alt.LayerChart:
    # The licence's credit, drawn under the map (Vega draws no subtitle under an empty title).
    return (
        layers.properties(
            width="container",
            height=HEIGHT,
            title=alt.Title(attribution, fontSize=10, fontWeight="normal", color="#666", anchor="end", orient="bottom"),
        )
        .configure_view(stroke=None)
        .configure_legend(orient="bottom", titleLimit=300, labelLimit=200)
    )


def choropleth(collection: dict, values: pd.DataFrame, key: str, texts: dict[str, str]) -> alt.LayerChart:
    """Areas of `collection` shaded by `values.estimate` (joined on feature property `key` = `values.key`);
    tooltip: name, estimate, interval, n. Areas without a shown estimate are grey. `texts`: legend, estimate,
    interval, name, n, no_data, attribution (translated)."""
    joined = values.set_index("key")
    for feature in collection["features"]:
        properties = feature["properties"]
        row = joined.loc[properties[key]] if properties[key] in joined.index else None
        shown = row is not None and pd.notna(row["estimate"])
        properties.update(
            label=row["label"] if row is not None else properties.get("district", properties[key]),
            estimate=float(row["estimate"]) if shown else None,
            estimate_text=f"{row['estimate']:.1%}" if shown else texts["no_data"],
            interval=f"{row['ci_low']:.1%}–{row['ci_high']:.1%}" if shown else "—",
            n=int(row["n"]) if row is not None and pd.notna(row["n"]) else 0,
        )
    tooltip = [
        alt.Tooltip("properties.label:N", title=texts["name"]),
        alt.Tooltip("properties.estimate_text:N", title=texts["estimate"]),
        alt.Tooltip("properties.interval:N", title=texts["interval"]),
        alt.Tooltip("properties.n:Q", title=texts["n"]),
    ]
    shaded = (
        alt.Chart(_shapes(collection))
        .mark_geoshape(stroke="#ffffff", strokeWidth=1)
        .encode(
            color=alt.condition(
                "datum.properties.estimate != null",
                alt.Color(
                    "properties.estimate:Q",
                    title=texts["legend"],
                    scale=alt.Scale(scheme=BLUES),
                    legend=alt.Legend(format=".0%", gradientLength=220),
                ),
                alt.value("#d0d0d0"),
            ),
            tooltip=tooltip,
        )
    )
    return _frame(alt.layer(shaded).project("mercator"), texts["attribution"])


def labelled_points(collection: dict, points: pd.DataFrame, texts: dict[str, str]) -> alt.LayerChart:
    """Points (lat, lon, label, estimate, estimate_text, interval, n) over the district limits, coloured by
    estimate and labelled: neighbourhoods, whose limits are not known, are never drawn as areas."""
    base = alt.Chart(points)
    tooltip = [
        alt.Tooltip("label:N", title=texts["name"]),
        alt.Tooltip("estimate_text:N", title=texts["estimate"]),
        alt.Tooltip("interval:N", title=texts["interval"]),
        alt.Tooltip("n:Q", title=texts["n"]),
    ]
    dots = base.mark_circle(size=140, opacity=0.95, stroke="#333", strokeWidth=0.6).encode(
        longitude="lon:Q",
        latitude="lat:Q",
        tooltip=tooltip,
        color=alt.condition(
            "isValid(datum.estimate)",
            alt.Color(
                "estimate:Q",
                title=texts["legend"],
                scale=alt.Scale(scheme=BLUES),
                legend=alt.Legend(format=".0%", gradientLength=220),
            ),
            alt.value("#bdbdbd"),
        ),
    )
    labels = base.mark_text(align="left", dx=8, fontSize=10, color="#222").encode(
        longitude="lon:Q", latitude="lat:Q", text="label:N"
    )
    return _frame(alt.layer(_background(collection), dots, labels).project("mercator"), texts["attribution"])


def field_points(
    collection: dict, points: pd.DataFrame, colour: str, colour_title: str, tooltip: list, attribution: str
) -> alt.LayerChart:
    """GPS points (lat, lon) over the district limits, coloured by the column `colour` (a volunteer, a flag)."""
    dots = (
        alt.Chart(points)
        .mark_circle(size=18, opacity=0.75)
        .encode(
            longitude="lon:Q",
            latitude="lat:Q",
            tooltip=tooltip,
            color=alt.Color(f"{colour}:N", title=colour_title, legend=alt.Legend(columns=2, symbolLimit=40)),
        )
    )
    return _frame(alt.layer(_background(collection), dots).project("mercator"), attribution)
