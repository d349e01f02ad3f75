/**
 * Service worker of one form's web page (its scope is the form's folder): the page, the bundle, the form list,
 * the XForm, its manifest and media (neighbourhoods.csv) stay available so that the form opens and works
 * without a connection.
 *
 * - The bundle (content-hashed names, WEBFORM_ASSETS, injected by build.mjs) is immutable: cache first, never
 *   re-downloaded; it lives in a cache named after this build, dropped when a newer build takes over.
 * - Everything else (page, form list, XForm, media) is network first, so a re-published form arrives as soon as
 *   there is signal, with the cached copy when the network fails or is slower than NETWORK_TIMEOUT_MS (weak
 *   signal in the field). That cache survives new builds: a phone that updated the page online and then lost
 *   signal must still open the form.
 * - Submissions (POST) are never touched: the page's IndexedDB outbox owns them.
 */
/* global WEBFORM_ASSETS, WEBFORM_VERSION */
const NETWORK_TIMEOUT_MS = 4000;
const scope = self.registration.scope;
const SHELL_PREFIX = `sdg16-webform shell ${scope} `;
const SHELL_CACHE = SHELL_PREFIX + WEBFORM_VERSION;
const DATA_CACHE = `sdg16-webform data ${scope}`;
const shellUrls = new Set(WEBFORM_ASSETS.map((path) => new URL(path, scope).href));
const pageUrl = new URL('webform', scope).href;

self.addEventListener('install', (event) => {
    event.waitUntil(
        (async () => {
            await (await caches.open(SHELL_CACHE)).addAll([...shellUrls]);
            await (await caches.open(DATA_CACHE)).add(pageUrl);
            await self.skipWaiting();
        })()
    );
});

self.addEventListener('activate', (event) => {
    event.waitUntil(
        (async () => {
            const stale = (await caches.keys()).filter((key) => key.startsWith(SHELL_PREFIX) && key !== SHELL_CACHE);
            await Promise.all(stale.map((key) => caches.delete(key)));
            await self.clients.claim();
        })()
    );
});

async function cacheFirst(request) {
    const cache = await caches.open(SHELL_CACHE);
    const cached = await cache.match(request);
    if (cached) return cached;
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
}

async function networkFirst(request) {
    const cache = await caches.open(DATA_CACHE);
    const network = fetch(request).then(async (response) => {
        if (response.ok) await cache.put(request, response.clone());
        return response;
    });
    const timeout = new Promise((resolve) => setTimeout(resolve, NETWORK_TIMEOUT_MS));
    const early = await Promise.race([network.catch(() => null), timeout]);
    if (early) return early;
    return (await cache.match(request)) || network;
}

self.addEventListener('fetch', (event) => {
    const { request } = event;
    if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
    event.respondWith(shellUrls.has(request.url) ? cacheFirst(request) : networkFirst(request));
});
