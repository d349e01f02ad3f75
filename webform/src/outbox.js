/**
 * Completed records waiting to be sent, kept in IndexedDB so that they survive reloads, closed tabs and
 * phones without signal. A record leaves the outbox only when the server has acknowledged it (201/202).
 *
 * Each record is sent once: one Web Lock serialises every flush across tabs and triggers (submit, `online`,
 * timer), and a record is deleted in the same flush that got its acknowledgement. Should the acknowledgement
 * itself be lost, the resend is byte-identical, which the OpenRosa server answers with 201 and no duplicate.
 */
import { DRAFTS, OUTBOX, db } from './db.js';
import { submitRecord } from './openrosa.js';

const LOCK = 'sdg16-webform-outbox';

/** Statuses that will not change by retrying: the record is kept, shown, and no longer sent automatically. */
const PERMANENT = new Set([400, 409, 413, 415, 422]);

/**
 * Run `task` alone. Web Locks serialise across tabs but exist only in secure contexts (HTTPS, localhost);
 * on a plain-HTTP LAN address a promise chain serialises within the page.
 */
let chain = Promise.resolve();
function withLock(task) {
    if (navigator.locks) return navigator.locks.request(LOCK, task);
    const run = chain.then(task);
    chain = run.catch(() => {});
    return run;
}

/**
 * Keep a completed record until the server has it, and close the draft it was finished from in the same
 * transaction: the interview is either still open or waiting to be sent, never both (finishing it twice would
 * send two different records with one instanceID, which the server must refuse).
 * @param {{instanceId: string, xml: string, submissionUrl: string, formId: string}} record
 * @param {string} draftKey
 */
export async function enqueue(record, draftKey) {
    const tx = (await db).transaction([OUTBOX, DRAFTS], 'readwrite');
    await Promise.all([
        tx.objectStore(OUTBOX).put({ ...record, savedAt: new Date().toISOString(), rejected: null }),
        tx.objectStore(DRAFTS).delete(draftKey),
        tx.done,
    ]);
}

/** @returns {Promise<{waiting: number, rejected: Array<{instanceId: string, rejected: string}>}>} */
export async function summary() {
    const records = await (await db).getAll(OUTBOX);
    return {
        waiting: records.filter((r) => !r.rejected).length,
        rejected: records.filter((r) => r.rejected),
    };
}

/**
 * Send every waiting record, oldest first, stopping at the first failure that may pass (no network, server
 * down, revoked link): the record stays and is tried again later.
 * @returns {Promise<{sent: number, error: Error|null}>} how many the server acknowledged, and what stopped the
 *   flush when the server (not the network) refused: the volunteer must hear about that
 */
export async function flush() {
    return withLock(async () => {
        const records = (await (await db).getAll(OUTBOX))
            .filter((r) => !r.rejected)
            .sort((a, b) => a.savedAt.localeCompare(b.savedAt));
        let sent = 0;
        for (const record of records) {
            try {
                await submitRecord(record);
            } catch (error) {
                if (PERMANENT.has(error.status)) {
                    await (await db).put(OUTBOX, { ...record, rejected: `${error.status}: ${error.message}` });
                    continue;
                }
                return { sent, error: error.status ? error : null };
            }
            await (await db).delete(OUTBOX, record.instanceId);
            sent += 1;
        }
        return { sent, error: null };
    });
}
