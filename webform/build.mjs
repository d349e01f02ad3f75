// Build the web form into the Python package (committed: a server without Node serves it as shipped):
//   npm run build                 → ../collect/webform_dist/
//   npm run build -- --out DIR    → DIR (CI builds into a temporary folder and compares: `npm run check`)
//
//   index.html                      the page, pointing at the hashed bundle
//   sw.js                           the service worker, knowing the hashed bundle's names
//   assets/webform-HASH.js          enketo-core + our code (no XSLT: the server transforms the XForm)
//   assets/webform-HASH.css         Enketo's formhub theme + the page's bar
//   enketo-transformer/*.xsl        enketo-transformer's stylesheets, run on the server by lxml (collect/enketo_transform.py)
//   enketo-transformer/language-subtags.json  the IANA language subtags enketo-transformer names languages with
//   enketo-transformer/version.json the transformer's version
// Content-hashed names make the bundle immutable: the service worker serves it from its cache without asking the
// network, and a new build has new names, so phones fetch a new bundle exactly once. The build is deterministic
// (exact versions in package-lock.json, no source maps, no timestamps): the same source gives the same bytes.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import * as sass from 'sass';

const { values } = parseArgs({ options: { out: { type: 'string' } } });
const dist = values.out ? pathToFileURL(`${resolve(values.out)}/`) : new URL('../collect/webform_dist/', import.meta.url);
const assets = new URL('assets/', dist);
const transformer = new URL('enketo-transformer/', dist);
const modules = new URL('node_modules/', import.meta.url);
const readJson = async (path) => JSON.parse(await readFile(new URL(path, modules), 'utf8'));

await rm(dist, { recursive: true, force: true });
await mkdir(assets, { recursive: true });
await mkdir(transformer, { recursive: true });

const common = { bundle: true, minify: true, sourcemap: false, target: 'es2020', logLevel: 'warning', legalComments: 'eof' };
const bundle = await esbuild.build({
    ...common,
    entryPoints: { webform: 'src/main.js' },
    outdir: new URL('assets/', dist).pathname,
    entryNames: '[name]-[hash]',
    metafile: true,
    format: 'esm',
    platform: 'browser',
    // enketo-core expects each application to supply its own configuration, translator and widget list.
    alias: {
        'enketo/config': './src/enketo-config.js',
        'enketo/translator': './src/translator.js',
        'enketo/widgets': './src/widgets.js',
    },
});
const js = Object.keys(bundle.metafile.outputs).find((path) => path.endsWith('.js')).split('/').pop();

// enketo-core's datepicker stylesheet imports its dependency by the path it has inside Enketo's monorepo.
const monorepoPackages = {
    findFileUrl(url) {
        const prefix = '/packages/enketo-core/node_modules/';
        return url.startsWith(prefix) ? new URL(url.slice(prefix.length), modules) : null;
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
    outfile: new URL('sw.js', dist).pathname,
    format: 'iife',
    define: {
        WEBFORM_ASSETS: JSON.stringify(shell),
        WEBFORM_VERSION: JSON.stringify(createHash('sha256').update(shell.join()).digest('hex').slice(0, 12)),
    },
});

// What the server needs to transform XForms as this enketo-transformer version does, without Node.
const xsl = 'enketo-transformer/dist/enketo-transformer/xsl/';
for (const name of ['openrosa2html5form', 'openrosa2xmlmodel']) {
    const { default: sheet } = await import(new URL(`${xsl}${name}.xsl.js`, modules));
    await writeFile(new URL(`${name}.xsl`, transformer), sheet);
}
const registry = await readJson('language-subtag-registry/data/json/registry.json');
const languages = registry.filter((record) => record.Type === 'language').map((record) => [record.Subtag, record.Description]);
await writeFile(new URL('language-subtags.json', transformer), `${JSON.stringify(languages)}\n`);
const { version } = await readJson('enketo-transformer/package.json');
await writeFile(new URL('version.json', transformer), `${JSON.stringify({ 'enketo-transformer': version })}\n`);
