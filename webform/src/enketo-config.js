/**
 * enketo-core's global configuration (replaces its `enketo/config`, as its README asks of applications).
 *
 * Differences from enketo-core's defaults, and why:
 * - maps: OpenStreetMap only. The default also offers Google satellite, which loads the Google Maps API on
 *   every form with a geopoint: a third-party request from volunteers' phones, and one that fails offline.
 * - excludeNonRelevant: true. Values of questions that become non-relevant are cleared, as ODK Collect
 *   (JavaRosa) does, so a skipped question never keeps an answer given before the skip changed.
 */
export default {
    experimentalOptimizations: { computeAsync: false },
    excludeNonRelevant: true,
    maps: [
        {
            tiles: ['https://tile.openstreetmap.org/{z}/{x}/{y}.png'],
            name: 'streets',
            attribution:
                "© <a href='https://openstreetmap.org'>OpenStreetMap</a> | <a href='https://www.openstreetmap.org/copyright'>Terms</a>",
        },
    ],
    googleApiKey: '',
    repeatOrdinals: false,
    validateContinuously: false,
    validatePage: true,
    swipePage: true,
    textMaxChars: 2000,
};
