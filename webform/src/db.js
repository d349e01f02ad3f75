/**
 * The page's IndexedDB (kept by the browser across reloads, closed tabs and restarts):
 * - `outbox`: finished records waiting for the server's acknowledgement, keyed by instanceID;
 * - `drafts`: the interview in progress on each form, so that a reload or a killed tab loses nothing.
 */
import { openDB } from 'idb';

export const OUTBOX = 'outbox';
export const DRAFTS = 'drafts';

export const db = openDB('sdg16-webform', 1, {
    upgrade(database) {
        database.createObjectStore(OUTBOX, { keyPath: 'instanceId' });
        database.createObjectStore(DRAFTS);
    },
});
