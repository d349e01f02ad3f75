/**
 * The interview in progress, saved on every answer: phones reload pages and kill background tabs, and a
 * volunteer must not lose a half-done interview (Enketo Express autosaves for the same reason). The draft keeps
 * its instanceID, so the record finished from it is the same record.
 */
import { DRAFTS, db } from './db.js';

export async function saveDraft(key, xml) {
    await (await db).put(DRAFTS, xml, key);
}

/** @returns {Promise<string|undefined>} the saved record XML, if an interview was in progress */
export async function loadDraft(key) {
    return (await db).get(DRAFTS, key);
}

export async function discardDraft(key) {
    await (await db).delete(DRAFTS, key);
}
