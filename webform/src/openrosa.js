/**
 * The web form's client of the server: the form as the server transformed it for Enketo, its media files by the
 * OpenRosa attachment URLs ODK Collect uses, and submissions exactly as Enketo Express sends them, so the server
 * receives nothing Collect would not send.
 */

const OPENROSA_HEADERS = { 'X-OpenRosa-Version': '1.0' };

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

/**
 * The form as the server transformed it for Enketo (collect/webform.py: `{form, model, title, version}`), below
 * the form's own URL: the server runs enketo-transformer's stylesheets, as browsers are dropping XSLT.
 */
export async function downloadSurvey(url) {
    return (await fetchOk(url, 'Formulario / Form')).json();
}

export async function downloadMedia(url, fileName) {
    return fetchOk(url, `Archivo / File ${fileName}`);
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
