/**
 * The page's own words (status bar, buttons), in the form's current language: Spanish for volunteers in
 * Trujillo, English for everyone else. Form labels themselves come from the XForm's itext.
 */
const STRINGS = {
    es: {
        loading: 'Cargando formulario…',
        ready: 'Formulario listo. Funciona también sin conexión.',
        readyOnlineOnly: 'Formulario listo, solo con conexión: para usarlo sin conexión ábralo por HTTPS.',
        loadFailed: 'No se pudo cargar el formulario. Avise a su coordinador/a (quien le dio este enlace)',
        loadErrors: 'Errores del formulario',
        invalid: 'Revise las preguntas marcadas en rojo.',
        saving: 'Guardando…',
        restored: 'Se recuperó la entrevista en curso.',
        discard: 'Descartar entrevista',
        discardConfirm: '¿Descartar esta entrevista? Sus respuestas se borrarán de este teléfono.',
        discarded: 'Entrevista descartada.',
        saved: 'Entrevista guardada en este teléfono.',
        sent: 'Enviadas al servidor: {n}.',
        sendFailed: 'El servidor no aceptó el envío; se reintentará',
        waiting: 'en espera de envío',
        sendNow: 'Enviar ahora',
        finish: 'Terminar entrevista',
        rejected: 'Rechazadas por el servidor (se conservan aquí):',
        language: 'Idioma',
    },
    en: {
        loading: 'Loading form…',
        ready: 'Form ready. It also works offline.',
        readyOnlineOnly: 'Form ready, online only: open it over HTTPS to use it offline.',
        loadFailed: 'The form could not be loaded. Tell your coordinator (who gave you this link)',
        loadErrors: 'Form errors',
        invalid: 'Please check the questions marked in red.',
        saving: 'Saving…',
        restored: 'The interview in progress was restored.',
        discard: 'Discard interview',
        discardConfirm: 'Discard this interview? Its answers will be deleted from this phone.',
        discarded: 'Interview discarded.',
        saved: 'Interview saved on this phone.',
        sent: 'Sent to the server: {n}.',
        sendFailed: 'The server did not accept the upload; it will be retried',
        waiting: 'waiting to be sent',
        sendNow: 'Send now',
        finish: 'Finish interview',
        rejected: 'Rejected by the server (kept here):',
        language: 'Language',
    },
};

let current = 'es';

/**
 * Write an element's text in the current language: `data-ui` names the string, `data-ui-values` (JSON) fills
 * its `{name}` placeholders, `data-ui-detail` (e.g. a server's message) is appended untranslated.
 */
export function translate(el) {
    const text = ui(el.dataset.ui, JSON.parse(el.dataset.uiValues || '{}'));
    el.textContent = el.dataset.uiDetail ? `${text}: ${el.dataset.uiDetail}` : text;
}

/** One of the page's strings in the current language, `{name}` placeholders filled from `values`. */
export function ui(key, values = {}) {
    return STRINGS[current][key].replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
}

/** The page's current language (`es` or `en`). */
export function uiLanguage() {
    return current;
}

/** Follow the form's language selector (IANA subtag such as `es`, `en`; anything else falls back to Spanish). */
export function setUiLanguage(lang) {
    current = STRINGS[lang] ? lang : 'es';
    document.documentElement.lang = current;
    document.querySelectorAll('[data-ui]').forEach(translate);
}
