/**
 * enketo-core's UI strings (replaces its `enketo/translator`): the few words the engine itself writes (required
 * marks, map and coordinate labels of the geopoint widget, multi-select summaries) in Spanish when the form is in
 * Spanish. Strings not listed here fall back to enketo-core's own English source strings.
 */
import { t as english } from 'enketo-core/src/js/fake-translator';
import { uiLanguage } from './ui.js';

const SPANISH = {
    'constraint.invalid': 'Valor no permitido',
    'constraint.required': 'Esta pregunta es obligatoria',
    'form.required': 'obligatoria',
    'hint.guidance.details': 'Más detalles',
    'geopicker.accuracy': 'precisión (m)',
    'geopicker.altitude': 'altitud (m)',
    'geopicker.latitude': 'latitud (x.y °)',
    'geopicker.longitude': 'longitud (x.y °)',
    'geopicker.searchPlaceholder': 'buscar un lugar o una dirección',
    'geopicker.points': 'puntos',
    'geopicker.closepolygon': 'cerrar polígono',
    'geopicker.kmlcoords': 'coordenadas KML',
    'geopicker.kmlpaste': 'pegue aquí las coordenadas KML',
    'selectpicker.noneselected': 'nada seleccionado',
    'selectpicker.numberselected': '__number__ seleccionadas',
    'confirm.repeatremove.heading': '¿Borrar este grupo de respuestas?',
    'confirm.repeatremove.msg': 'No se puede deshacer. ¿Desea continuar?',
};

/**
 * @param {string} key - enketo-core's translation key, e.g. `geopicker.latitude`
 * @param {object} [options] - values for `__name__` placeholders
 */
export function t(key, options = {}) {
    if (uiLanguage() === 'es' && SPANISH[key]) {
        return SPANISH[key].replace(/__([^_]+)__/g, (_, name) => options[name]);
    }
    return english(key, options);
}

/** Re-translate what enketo-core already wrote (it marks those elements with `data-i18n`). */
export function retranslateEngineStrings(root) {
    for (const el of root.querySelectorAll('[data-i18n]')) {
        const text = t(el.dataset.i18n);
        if (el.matches('input, textarea')) el.placeholder = text;
        else el.textContent = text;
    }
}
