// Build the web form into dist/ (not committed): `npm run build`.
//   dist/index.html             the page, pointing at the hashed bundle
//   dist/sw.js                  the service worker, knowing the hashed bundle's names
//   dist/assets/webform-HASH.js enketo-core + enketo-transformer's browser build + our code
//   dist/assets/webform-HASH.css Enketo's formhub theme + the page's bar
// Content-hashed names make the bundle immutable: the service worker serves it from its cache without asking the
// network, and a new build has new names, so phones fetch a new bundle exactly once.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as esbuild from 'esbuild';
import * as sass from 'sass';

const dist = new URL('./dist/', import.meta.url);
const assets = new URL('./dist/assets/', import.meta.url);
await rm(dist, { recursive: true, force: true });
await mkdir(assets, { recursive: true });

const common = { bundle: true, minify: true, sourcemap: true, target: 'es2020', logLevel: 'warning' };
const bundle = await esbuild.build({
    ...common,
    entryPoints: { webform: 'src/main.js' },
    outdir: 'dist/assets',
    entryNames: '[name]-[hash]',
    metafile: true,
    format: 'esm',
    platform: 'browser',
    // The transformer imports the Node-only libxslt lazily, for the deprecated `preprocess` option we never pass.
    external: ['libxslt'],
    // enketo-core expects each application to supply its own configuration and translator modules.
    alias: { 'enketo/config': './src/enketo-config.js', 'enketo/translator': './src/translator.js' },
});
const js = Object.keys(bundle.metafile.outputs).find((path) => path.endsWith('.js')).split('/').pop();

// enketo-core's datepicker stylesheet imports its dependency by the path it has inside Enketo's monorepo.
const monorepoPackages = {
    findFileUrl(url) {
        const prefix = '/packages/enketo-core/node_modules/';
        return url.startsWith(prefix) ? new URL(url.slice(prefix.length), new URL('node_modules/', import.meta.url)) : null;
    },
};
const { css } = sass.compile('src/webform.scss', {
    loadPaths: ['node_modules'],
    importers: [monorepoPackages],
    style: 'compressed',
    quietDeps: true,
    silenceDeprecations: ['import', 'global-builtin', 'color-functions'],
});
const cssHash = createHash('sha256').update(css).digest('hex').slice(0, 8).toUpperCase();
const stylesheet = `webform-${cssHash}.css`;
await writeFile(new URL(stylesheet, assets), css);

const page = (await readFile('src/index.html', 'utf8'))
    .replace('webform-assets/webform.js', `webform-assets/${js}`)
    .replace('webform-assets/webform.css', `webform-assets/${stylesheet}`);
await writeFile(new URL('index.html', dist), page);

const shell = [js, stylesheet].map((name) => `webform-assets/${name}`);
await esbuild.build({
    ...common,
    entryPoints: ['src/sw.js'],
    outfile: 'dist/sw.js',
    format: 'iife',
    define: {
        WEBFORM_ASSETS: JSON.stringify(shell),
        WEBFORM_VERSION: JSON.stringify(createHash('sha256').update(shell.join()).digest('hex').slice(0, 12)),
    },
});
