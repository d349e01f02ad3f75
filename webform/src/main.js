/**
 * The volunteer's web form page: the form as the server transformed it (enketo-transformer's stylesheets, run by
 * the server: no XSLT in the browser) → enketo-core, with completed records kept in an IndexedDB outbox until the
 * server acknowledges them.
 *
 * The page's URL is all the configuration it needs: it is served at
 * `{server}/v1/key/{token}/projects/{project}/forms/{formId}/webform`, and `{server}/v1/key/{token}/projects/{project}`
 * is the volunteer's OpenRosa server URL, the one ODK Collect would use.
 */
import { Form } from 'enketo-core';
import events from 'enketo-core/src/js/event';
import { discardDraft, loadDraft, saveDraft } from './draft.js';
import { externalInstanceDocument } from './external-data.js';
import { retranslateEngineStrings } from './translator.js';
import { downloadMedia, downloadSurvey } from './openrosa.js';
import { enqueue, flush, summary } from './outbox.js';
import { setUiLanguage, translate, ui } from './ui.js';

const RETRY_MS = 15000;
const CONTROL_WAIT_MS = 5000;

const match = location.pathname.match(/^(.*)\/forms\/([^/]+)\/webform\/?$/);
const serverUrl = match[1];
const formId = decodeURIComponent(match[2]);
const draftKey = `${serverUrl}/forms/${formId}`;

const state = { form: null, html: null, model: null, external: [], busy: false, draftSaved: Promise.resolve() };

/**
 * A stable id for this browser, like Enketo's `domain:random`, so that `deviceid` in the record tells
 * coordinators which phone sent it. (getRandomValues, not randomUUID: the latter needs a secure context.)
 */
function deviceId() {
    const key = 'sdg16-webform-deviceid';
    let id = localStorage.getItem(key);
    if (!id) {
        const random = crypto.getRandomValues(new Uint8Array(16));
        id = `${location.host}:${[...random].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
        localStorage.setItem(key, id);
    }
    return id;
}

/**
 * Register the service worker and, on the first visit, wait until it controls the page, so that the form
 * downloads below pass through it and are cached for offline use. Without service workers (plain-HTTP LAN
 * addresses are not a secure context) the form still works online, and the outbox still keeps records.
 */
async function takeOfflineControl() {
    if (!('serviceWorker' in navigator)) return false;
    try {
        await navigator.serviceWorker.register('webform-sw.js');
    } catch (error) {
        console.error('No offline mode: the service worker could not be registered', error);
        return false;
    }
    if (navigator.serviceWorker.controller) return true;
    await new Promise((resolve) => {
        navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true });
        setTimeout(resolve, CONTROL_WAIT_MS);
    });
    return Boolean(navigator.serviceWorker.controller);
}

/**
 * Download the form as the server transformed it for Enketo (`webform-form.json`, next to this page), then the
 * external instances its model names (select_one_from_file / CSV media), by their attachment URLs.
 */
async function loadSurvey() {
    const survey = await downloadSurvey(new URL('webform-form.json', location.href));
    const model = new DOMParser().parseFromString(survey.model, 'text/xml');
    const external = await Promise.all(
        [...model.querySelectorAll('instance[id][src]')].map(async (instance) => {
            const src = new URL(instance.getAttribute('src'), location.href).href;
            const fileName = decodeURIComponent(src.split('/').pop());
            const response = await downloadMedia(src, fileName);
            return { id: instance.id, src, xml: await externalInstanceDocument(response, fileName) };
        })
    );
    document.title = survey.title || formId;
    return { html: survey.form, model: survey.model, external };
}

/**
 * Render the survey: a fresh record, or the interview in progress (`draft`, its record XML). Every answer
 * saves the draft; saves are chained so that finishing can wait for the last one.
 * @returns {string[]} enketo-core's load errors (form logic it cannot evaluate)
 */
function renderForm(language, draft) {
    const container = document.getElementById('form-container');
    container.innerHTML = state.html;
    const formEl = container.querySelector('form.or');
    const form = new Form(
        formEl,
        { modelStr: state.model, instanceStr: draft, external: state.external, session: { deviceid: deviceId() } },
        { language }
    );
    state.form = form;
    const loadErrors = form.init();
    formEl.addEventListener(events.XFormsValueChanged().type, () => {
        if (form !== state.form) return; // an answer to a record already finished or discarded
        state.draftSaved = state.draftSaved.then(() => saveDraft(draftKey, form.getDataStr()));
    });
    const languages = document.getElementById('form-languages');
    const followLanguage = () => {
        setUiLanguage(languages.value);
        retranslateEngineStrings(formEl);
    };
    if (languages) {
        followLanguage();
        languages.addEventListener('change', followLanguage);
    }
    return loadErrors;
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
    document.getElementById('rejected').hidden = rejected.length === 0;
    document.querySelector('#rejected ul').replaceChildren(
        ...rejected.map((record) => {
            const li = document.createElement('li');
            li.textContent = `${record.instanceId} — ${record.rejected}`;
            return li;
        })
    );
}

async function sendWaiting() {
    try {
        const { sent, error } = await flush();
        if (error) showStatus('error', 'sendFailed', {}, error.message);
        else if (sent > 0) showStatus('ok', 'sent', { n: sent });
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
        const record = {
            instanceId: state.form.instanceID,
            xml: state.form.getDataStr({ irrelevant: false }),
            formId,
            submissionUrl: `${serverUrl}/submission`,
        };
        startNewRecord();
        await state.draftSaved;
        await enqueue(record, draftKey);
        showStatus('ok', 'saved');
        await showOutbox();
        await sendWaiting();
    } finally {
        state.busy = false;
    }
}

/** Replace the current record by a fresh one (its pending draft saves are ignored from here on). */
function startNewRecord() {
    const language = state.form.langs.currentLanguage;
    state.form.resetView();
    renderForm(language);
    window.scrollTo(0, 0);
}

/** Abandon the interview in progress (the respondent left), after the volunteer confirms. */
async function discardRecord() {
    if (state.busy || !window.confirm(ui('discardConfirm'))) return;
    startNewRecord();
    await state.draftSaved;
    await discardDraft(draftKey);
    showStatus('ok', 'discarded');
}

async function start() {
    document.getElementById('submit-form').addEventListener('click', finishRecord);
    document.getElementById('discard-form').addEventListener('click', discardRecord);
    document.getElementById('send-now').addEventListener('click', sendWaiting);
    window.addEventListener('online', sendWaiting);
    setInterval(sendWaiting, RETRY_MS);
    await showOutbox();
    try {
        const offline = await takeOfflineControl();
        Object.assign(state, await loadSurvey());
        const draft = await loadDraft(draftKey);
        const loadErrors = renderForm(undefined, draft);
        document.body.dataset.ready = 'true';
        if (loadErrors.length > 0) showStatus('error', 'loadErrors', {}, loadErrors.join('; '));
        else if (draft) showStatus('ok', 'restored');
        else showStatus('ok', offline ? 'ready' : 'readyOnlineOnly');
    } catch (error) {
        showStatus('error', 'loadFailed', {}, error.message);
        throw error;
    }
    await sendWaiting();
}

start();
