// `npm run check`: rebuild the web form from source into a temporary folder and compare it, file by file and
// byte by byte, with what the Python package ships (../collect/webform_dist/). Fails, naming the differences,
// when the shipped bundle is not the source's: then run `npm run build` and commit the result.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const shipped = fileURLToPath(new URL('../collect/webform_dist/', import.meta.url));

async function files(root) {
    const entries = await readdir(root, { recursive: true, withFileTypes: true });
    return entries.filter((entry) => entry.isFile()).map((entry) => relative(root, join(entry.parentPath, entry.name))).sort();
}

const fresh = await mkdtemp(join(tmpdir(), 'sdg16-webform-'));
try {
    execFileSync(process.execPath, ['build.mjs', '--out', fresh], { stdio: 'inherit', cwd: fileURLToPath(new URL('.', import.meta.url)) });
    const [built, ships] = [await files(fresh), await files(shipped)];
    const differences = [
        ...built.filter((name) => !ships.includes(name)).map((name) => `missing from the package: ${name}`),
        ...ships.filter((name) => !built.includes(name)).map((name) => `not built from source: ${name}`),
    ];
    for (const name of built.filter((name) => ships.includes(name))) {
        const [a, b] = await Promise.all([readFile(join(fresh, name)), readFile(join(shipped, name))]);
        if (!a.equals(b)) differences.push(`differs from source: ${name}`);
    }
    if (differences.length > 0) {
        console.error(`The shipped web form (${shipped}) is not what the source builds:\n  ${differences.join('\n  ')}`);
        console.error('Run `cd webform && npm ci && npm run build` and commit collect/webform_dist/.');
        process.exitCode = 1;
    } else {
        console.log(`The shipped web form is the source's (${built.length} files).`);
    }
} finally {
    await rm(fresh, { recursive: true, force: true });
}
