/**
 * The volunteer's web form page: OpenRosa form download → enketo-transformer (in the browser) → enketo-core,
 * with completed records kept in an IndexedDB outbox until the server acknowledges them.
 *
 * The page's URL is all the configuration it needs: it is served at
 * `{server}/v1/key/{token}/projects/{project}/forms/{formId}/webform`, and `{server}/v1/key/{token}/projects/{project}`
 * is the volunteer's OpenRosa server URL, the one ODK Collect would use.
 */
import { Form } from 'enketo-core';
import events from 'enketo-core/src/js/event';
import { transform } from 'enketo-transformer/web';
import { externalInstanceDocument } from './external-data.js';
import { downloadMedia, downloadXForm, findForm, mediaUrls } from './openrosa.js';
import { enqueue, flush, summary } from './outbox.js';
import { deviceId, setUiLanguage, translate } from './ui.js';

const RETRY_MS = 15000;
const CONTROL_WAIT_MS = 5000;

const match = location.pathname.match(/^(.*)\/forms\/([^/]+)\/webform\/?$/);
const serverUrl = match[1];
const formId = decodeURIComponent(match[2]);

const state = { form: null, html: null, model: null, external: [], busy: false };

/**
 * Register the service worker and, on the first visit, wait until it controls the page, so that the form
 * downloads below pass through it and are cached for offline use. Without service workers (plain-HTTP LAN
 * addresses are not a secure context) the form still works online, and the outbox still keeps records.
 */
async function takeOfflineControl() {
    if (!('serviceWorker' in navigator)) return false;
    await navigator.serviceWorker.register('webform-sw.js');
    if (navigator.serviceWorker.controller) return true;
    await new Promise((resolve) => {
        navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true });
        setTimeout(resolve, CONTROL_WAIT_MS);
    });
    return Boolean(navigator.serviceWorker.controller);
}

/** Download the form and its media the OpenRosa way and transform it as Enketo Express does. */
async function loadSurvey() {
    const entry = await findForm(serverUrl, formId);
    const [xform, media] = await Promise.all([downloadXForm(entry.downloadUrl), mediaUrls(entry.manifestUrl)]);
    const survey = await transform({ xform, media });
    const model = new DOMParser().parseFromString(survey.model, 'text/xml');
    const external = await Promise.all(
        [...model.querySelectorAll('instance[id][src]')].map(async (instance) => {
            const src = instance.getAttribute('src');
            const fileName = Object.keys(media).find((name) => media[name] === src) || src;
            const response = await downloadMedia(src, fileName);
            return { id: instance.id, src, xml: await externalInstanceDocument(response, fileName) };
        })
    );
    document.title = entry.name || formId;
    return { html: survey.form, model: survey.model, external };
}

/** Render a fresh, empty record of the survey (also after each completed one). */
function renderForm(language) {
    const container = document.getElementById('form-container');
    container.innerHTML = state.html;
    const formEl = container.querySelector('form.or');
    state.form = new Form(
        formEl,
        { modelStr: state.model, external: state.external, session: { deviceid: deviceId() } },
        { language }
    );
    const loadErrors = state.form.init();
    if (loadErrors.length > 0) {
        showStatus('error', 'loadErrors', {}, loadErrors.join('; '));
    }
    const languages = document.getElementById('form-languages');
    if (languages) {
        setUiLanguage(languages.value);
        languages.addEventListener('change', () => setUiLanguage(languages.value));
    }
}

/** Tell the volunteer what happened, in the page's language (kept as a key, so a language switch re-translates). */
function showStatus(kind, key, values = {}, detail = '') {
    const status = document.getElementById('status');
    status.dataset.kind = kind;
    status.dataset.ui = key;
    status.dataset.uiValues = JSON.stringify(values);
    status.dataset.uiDetail = detail;
    translate(status);
}

async function showOutbox() {
    const { waiting, rejected } = await summary();
    document.getElementById('outbox-count').textContent = String(waiting);
    document.getElementById('outbox').dataset.waiting = String(waiting);
    const list = document.getElementById('rejected');
    list.replaceChildren(
        ...rejected.map((record) => {
            const li = document.createElement('li');
            li.textContent = `${record.instanceId} — ${record.rejected}`;
            return li;
        })
    );
}

async function sendWaiting() {
    try {
        const sent = await flush();
        if (sent > 0) showStatus('ok', 'sent', { n: sent });
    } finally {
        await showOutbox();
    }
}

/** Validate, keep the record in the outbox, start a new empty record, then try to send. */
async function finishRecord() {
    if (state.busy) return;
    state.busy = true;
    showStatus('busy', 'saving');
    try {
        if (!(await state.form.validate())) {
            showStatus('error', 'invalid');
            return;
        }
        state.form.view.html.dispatchEvent(events.BeforeSave());
        await enqueue({
            instanceId: state.form.instanceID,
            xml: state.form.getDataStr({ irrelevant: false }),
            formId,
            submissionUrl: `${serverUrl}/submission`,
        });
        const language = state.form.langs.currentLanguage;
        state.form.resetView();
        renderForm(language);
        window.scrollTo(0, 0);
        showStatus('ok', 'saved');
        await showOutbox();
        await sendWaiting();
    } finally {
        state.busy = false;
    }
}

async function start() {
    document.getElementById('submit-form').addEventListener('click', finishRecord);
    document.getElementById('send-now').addEventListener('click', sendWaiting);
    window.addEventListener('online', sendWaiting);
    setInterval(sendWaiting, RETRY_MS);
    await showOutbox();
    try {
        const offline = await takeOfflineControl();
        Object.assign(state, await loadSurvey());
        renderForm(undefined);
        document.body.dataset.ready = 'true';
        showStatus('ok', offline ? 'ready' : 'readyOnlineOnly');
    } catch (error) {
        showStatus('error', 'loadFailed', {}, error.message);
        throw error;
    }
    await sendWaiting();
}

start();
