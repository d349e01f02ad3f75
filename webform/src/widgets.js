/**
 * enketo-core's widgets (replaces its `enketo/widgets`), with a geopoint widget that never loads a map.
 *
 * Why: enketo-core's geopicker shows a Leaflet map on devices without a touch screen (and on any device for the
 * `maps` / `placement-map` appearances), whose tiles and place search come from third-party hosts
 * (tile.openstreetmap.org, maps.googleapis.com). The web form must not call any host but our server: requests
 * to others fail offline, and tell them where volunteers are. Without the map the widget is what enketo-core
 * shows on phones by default and what ODK Collect shows for a plain geopoint: "detect my location" plus the
 * latitude / longitude / altitude / accuracy fields.
 */
import widgets from 'enketo-core/src/js/widgets';
import Geopicker from 'enketo-core/src/widget/geo/geopicker';

class GeopickerWithoutMap extends Geopicker {
    get props() {
        const props = super.props;
        props.map = false;
        props.search = false;
        return props;
    }
}

export default widgets.map((widget) => (widget === Geopicker ? GeopickerWithoutMap : widget));
