/**
 * enketo-core's global configuration (replaces its `enketo/config`, as its README asks of applications).
 *
 * Differences from enketo-core's defaults, and why:
 * - maps: OpenStreetMap only, never Google (whose API the default would load). The geopoint widget of this page
 *   shows no map at all (src/widgets.js), so no tile is ever requested; this list only keeps enketo-core's
 *   Google default out should a map ever be shown.
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
