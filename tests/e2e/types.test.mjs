// The package's TypeScript types, checked as a customer sees them: `types/api.ts` uses every export
// (typed events, error codes, the face module, webhooks, the asset base) and is compiled with
// `tsc --noEmit --strict` (the pinned dev tool in tests/e2e) against the packed package installed
// in a fresh app, with both module resolutions a TypeScript project uses with an `exports` map
// (`bundler` and `nodenext`), and without skipLibCheck so the package's .d.ts files are checked
// too. The names the types declare as values are compared with what `index.js` really exports.
// Run by `cargo xtask test`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TOOLS, createApp, packSdk, tempDir } from './pack.mjs';

const API_TS = new URL('./types/api.ts', import.meta.url).pathname;
let work;
let app;

before(() => {
  work = tempDir('trustcap-types-');
  app = createApp(join(work, 'app'), packSdk(work));
  mkdirSync(join(app, 'src'));
  copyFileSync(API_TS, join(app, 'src/api.ts'));
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Runs tsc over src/api.ts with the given module settings; returns its status and output. */
function tsc(name, module, moduleResolution) {
  const config = {
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: 'ES2022',
      module,
      moduleResolution,
      lib: ['ES2022', 'DOM', 'DOM.Iterable'],
      types: [],
      skipLibCheck: false,
      noUnusedLocals: false,
    },
    files: ['src/api.ts'],
  };
  const file = join(app, `tsconfig.${name}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  const run = spawnSync(process.execPath, [join(TOOLS, 'typescript/bin/tsc'), '-p', file, '--pretty', 'false'], {
    cwd: app,
    encoding: 'utf8',
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}

for (const [name, module, resolution] of [
  ['bundler', 'ESNext', 'Bundler'],
  ['nodenext', 'NodeNext', 'NodeNext'],
]) {
  test(`every public export type-checks with tsc --strict (moduleResolution ${resolution})`, () => {
    const { status, output } = tsc(name, module, resolution);
    assert.equal(status, 0, `tsc reported errors:\n${output}`);
  });
}

test('the typed events reject a wrong detail type (the check above is not vacuous)', () => {
  // Without its @ts-expect-error marker, the misuse must be a compile error.
  const source = readFileSync(API_TS, 'utf8');
  const marker = '  // @ts-expect-error: the guidance event\'s detail is not an UploadedDetail.\n';
  assert.ok(source.includes(marker));
  writeFileSync(join(app, 'src/api.ts'), source.replace(marker, ''));
  try {
    const { status, output } = tsc('bundler-negative', 'ESNext', 'Bundler');
    assert.notEqual(status, 0);
    assert.match(output, /UploadedDetail|GuidanceDetail/);
  } finally {
    copyFileSync(API_TS, join(app, 'src/api.ts'));
  }
});

test('the values the types declare are exactly what index.js exports', async () => {
  const source = readFileSync(API_TS, 'utf8');
  const block = /VALUE_EXPORTS[^=]*=\s*\{([^}]*)\}/.exec(source);
  assert.ok(block, 'api.ts declares VALUE_EXPORTS');
  const declared = [...block[1].matchAll(/(\w+):\s*true/g)].map((m) => m[1]).sort();
  const sdk = await import(pathToFileURL(join(app, 'node_modules/@trustcap/web/index.js')).href);
  assert.deepEqual(Object.keys(sdk).sort(), declared);
  const face = await import(pathToFileURL(join(app, 'node_modules/@trustcap/web/face.js')).href);
  for (const name of ['loadFaceModule', 'prefetchFaceModule', 'faceSimdSupported', 'FACE_MODELS']) {
    assert.equal(face[name], sdk[name], name);
  }
});
