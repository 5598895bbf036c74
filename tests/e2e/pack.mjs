// The SDK as a customer gets it: `npm pack` of the built package (TRUSTCAP_SDK_DIR) and a fresh
// app folder that installs that tarball with npm. The tarball has no dependencies, so installing it
// needs no network. Shared by the Vite app test and the TypeScript types test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env } from './harness.mjs';

/** The dev tools' node_modules (vite, typescript, playwright-core), installed by `cargo xtask setup`. */
export const TOOLS = new URL('./node_modules/', import.meta.url).pathname;

/** A new temporary folder (the caller removes it). */
export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** `npm pack` of the built SDK into `dir`; returns the tarball's path. */
export function packSdk(dir) {
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir, env.sdkDir()], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const name = out.trim().split('\n').pop().trim();
  const tarballs = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
  if (!tarballs.includes(name)) throw new Error(`npm pack printed ${name}, the folder has ${tarballs.join(', ')}`);
  return join(dir, name);
}

/**
 * Creates an app folder with a package.json depending on the tarball (`file:`), plus `files`
 * (name → text), and installs it with npm; returns the folder.
 */
export function createApp(dir, tarball, files = {}) {
  mkdirSync(dir, { recursive: true });
  const manifest = {
    name: 'trustcap-sdk-test-app',
    private: true,
    version: '0.0.0',
    type: 'module',
    dependencies: { '@trustcap/web': `file:${tarball}` },
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--loglevel=error'], {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return dir;
}
