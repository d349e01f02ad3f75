/**
 * The page's own words (status bar, buttons), in the form's current language: Spanish for volunteers in
 * Trujillo, English for everyone else. Form labels themselves come from the XForm's itext.
 */
const STRINGS = {
    es: {
        loading: 'Cargando formulario…',
        ready: 'Formulario listo. Funciona también sin conexión.',
        readyOnlineOnly: 'Formulario listo, solo con conexión: para usarlo sin conexión ábralo por HTTPS.',
        loadFailed: 'No se pudo cargar el formulario',
        loadErrors: 'Errores del formulario',
        invalid: 'Revise las preguntas marcadas en rojo.',
        saving: 'Guardando…',
        saved: 'Entrevista guardada en este teléfono.',
        sent: 'Enviadas al servidor: {n}.',
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
        loadFailed: 'The form could not be loaded',
        loadErrors: 'Form errors',
        invalid: 'Please check the questions marked in red.',
        saving: 'Saving…',
        saved: 'Interview saved on this phone.',
        sent: 'Sent to the server: {n}.',
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
    const values = JSON.parse(el.dataset.uiValues || '{}');
    const text = STRINGS[current][el.dataset.ui].replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
    el.textContent = el.dataset.uiDetail ? `${text}: ${el.dataset.uiDetail}` : text;
}

/** Follow the form's language selector (IANA subtag such as `es`, `en`; anything else falls back to Spanish). */
export function setUiLanguage(lang) {
    current = STRINGS[lang] ? lang : 'es';
    document.documentElement.lang = current;
    document.querySelectorAll('[data-ui]').forEach(translate);
}

/**
 * A stable id for this browser, like Enketo's `domain:random`, so that `deviceid` in the record tells
 * coordinators which phone sent it. (getRandomValues, not randomUUID: the latter needs a secure context.)
 */
export function deviceId() {
    const key = 'sdg16-webform-deviceid';
    let id = localStorage.getItem(key);
    if (!id) {
        const random = crypto.getRandomValues(new Uint8Array(16));
        id = `${location.host}:${[...random].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
        localStorage.setItem(key, id);
    }
    return id;
}
