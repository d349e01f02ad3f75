/**
 * The web form's OpenRosa client: it finds and downloads the form exactly as ODK Collect does (formList →
 * downloadUrl, manifestUrl → media files) and submits exactly as Enketo Express does, so the server needs no
 * web-form-specific API and the page can never see something Collect would not.
 */

const OPENROSA_HEADERS = { 'X-OpenRosa-Version': '1.0' };
const XFORMS_LIST_NS = 'http://openrosa.org/xforms/xformsList';
const MANIFEST_NS = 'http://openrosa.org/xforms/xformsManifest';

/** An HTTP answer the volunteer must hear about (status kept so callers can tell 4xx from 5xx). */
class ServerError extends Error {
    constructor(message, status) {
        super(message);
        this.status = status;
    }
}

/** The server's own explanation (an OpenRosaResponse message, as Collect shows it), else the status. */
async function serverError(response, what) {
    const text = await response.text();
    const message = new DOMParser()
        .parseFromString(text, 'text/xml')
        .querySelector('OpenRosaResponse > message');
    const detail = message ? message.textContent : `HTTP ${response.status}`;
    return new ServerError(what ? `${what}: ${detail}` : detail, response.status);
}

async function fetchOk(url, what) {
    const response = await fetch(url, { headers: OPENROSA_HEADERS, cache: 'no-cache' });
    if (!response.ok) throw await serverError(response, what);
    return response;
}

async function fetchXml(url, what) {
    const text = await (await fetchOk(url, what)).text();
    const doc = new DOMParser().parseFromString(text, 'text/xml');
    if (doc.querySelector('parsererror')) {
        throw new ServerError(`${what}: the server's answer is not XML`, 0);
    }
    return doc;
}

function childText(parent, ns, name) {
    const el = parent.getElementsByTagNameNS(ns, name)[0];
    return el ? el.textContent.trim() : null;
}

/**
 * A link from the server, on the page's own scheme when it points at the page's own host: behind a proxy that
 * terminates TLS the server may believe it is reached over http, and an https page may not fetch http.
 */
function onPageScheme(link) {
    if (!link) return link;
    const url = new URL(link, location.href);
    if (url.host === location.host) url.protocol = location.protocol;
    return url.href;
}

/**
 * Find one form in the project's form list.
 * @param {string} serverUrl - the volunteer's project URL, e.g. /v1/key/TOKEN/projects/1
 * @param {string} formId
 * @returns {Promise<{formId: string, name: string, version: string|null, hash: string, downloadUrl: string, manifestUrl: string|null}>}
 */
export async function findForm(serverUrl, formId) {
    const list = await fetchXml(`${serverUrl}/formList`, 'Form list');
    for (const xform of list.getElementsByTagNameNS(XFORMS_LIST_NS, 'xform')) {
        if (childText(xform, XFORMS_LIST_NS, 'formID') === formId) {
            return {
                formId,
                name: childText(xform, XFORMS_LIST_NS, 'name'),
                version: childText(xform, XFORMS_LIST_NS, 'version'),
                hash: childText(xform, XFORMS_LIST_NS, 'hash'),
                downloadUrl: onPageScheme(childText(xform, XFORMS_LIST_NS, 'downloadUrl')),
                manifestUrl: onPageScheme(childText(xform, XFORMS_LIST_NS, 'manifestUrl')),
            };
        }
    }
    throw new ServerError(`Form "${formId}" is not in this project's form list`, 404);
}

/**
 * The form's media files (e.g. neighbourhoods.csv) by file name → download URL.
 * @returns {Promise<Record<string, string>>}
 */
export async function mediaUrls(manifestUrl) {
    if (!manifestUrl) return {};
    const manifest = await fetchXml(manifestUrl, 'Form manifest');
    const media = {};
    for (const file of manifest.getElementsByTagNameNS(MANIFEST_NS, 'mediaFile')) {
        media[childText(file, MANIFEST_NS, 'filename')] = onPageScheme(childText(file, MANIFEST_NS, 'downloadUrl'));
    }
    return media;
}

export async function downloadXForm(downloadUrl) {
    return (await fetchOk(downloadUrl, 'Form download')).text();
}

export async function downloadMedia(url, fileName) {
    return fetchOk(url, `Media file ${fileName}`);
}

/**
 * POST one record to {serverUrl}/submission as Enketo Express does: multipart/form-data with the XML as the
 * part `xml_submission_file`, `X-OpenRosa-Version: 1.0`, and the instanceID in a header. Resolves with the
 * status on 201/202; rejects with ServerError(status, server message) otherwise, and with a TypeError when the
 * network is down (fetch's own failure).
 * @param {{submissionUrl: string, xml: string, instanceId: string}} record
 */
export async function submitRecord(record) {
    const body = new FormData();
    body.append('xml_submission_file', new Blob([record.xml], { type: 'text/xml' }), 'xml_submission_file');
    const response = await fetch(record.submissionUrl, {
        method: 'POST',
        cache: 'no-cache',
        headers: { ...OPENROSA_HEADERS, 'X-OpenRosa-Instance-Id': record.instanceId },
        body,
    });
    if (response.status === 201 || response.status === 202) {
        return response.status;
    }
    throw await serverError(response, '');
}
