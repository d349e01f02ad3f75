/**
 * Completed records waiting to be sent, kept in IndexedDB so that they survive reloads, closed tabs and
 * phones without signal. A record leaves the outbox only when the server has acknowledged it (201/202).
 *
 * Each record is sent once: one Web Lock serialises every flush across tabs and triggers (submit, `online`,
 * timer), and a record is deleted in the same flush that got its acknowledgement. Should the acknowledgement
 * itself be lost, the resend is byte-identical, which the OpenRosa server answers with 201 and no duplicate.
 */
import { openDB } from 'idb';
import { submitRecord } from './openrosa.js';

const DB_NAME = 'sdg16-webform';
const STORE = 'outbox';
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

const db = openDB(DB_NAME, 1, {
    upgrade(database) {
        database.createObjectStore(STORE, { keyPath: 'instanceId' });
    },
});

/**
 * Keep a completed record until the server has it.
 * @param {{instanceId: string, xml: string, submissionUrl: string, formId: string}} record
 */
export async function enqueue(record) {
    await (await db).put(STORE, { ...record, savedAt: new Date().toISOString(), rejected: null });
}

/** @returns {Promise<{waiting: number, rejected: Array<{instanceId: string, rejected: string}>}>} */
export async function summary() {
    const records = await (await db).getAll(STORE);
    return {
        waiting: records.filter((r) => !r.rejected).length,
        rejected: records.filter((r) => r.rejected),
    };
}

/**
 * Send every waiting record, oldest first, stopping at the first network failure (still offline).
 * @returns {Promise<number>} how many records the server acknowledged
 */
export async function flush() {
    return withLock(async () => {
        const records = (await (await db).getAll(STORE))
            .filter((r) => !r.rejected)
            .sort((a, b) => a.savedAt.localeCompare(b.savedAt));
        let sent = 0;
        for (const record of records) {
            try {
                await submitRecord(record);
            } catch (error) {
                if (PERMANENT.has(error.status)) {
                    await (await db).put(STORE, { ...record, rejected: `${error.status}: ${error.message}` });
                    continue;
                }
                break; // offline, server down, or credentials: try again later, keep the record
            }
            await (await db).delete(STORE, record.instanceId);
            sent += 1;
        }
        return sent;
    });
}
