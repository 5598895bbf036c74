// Shared harness of the end-to-end suite: a real verifier process on a temporary SQLite
// file, the demo backend holding a real API key, and Debian's Chromium with a fake camera.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite through \`cargo xtask test\``);
  return value;
}

export const env = {
  verifierBin: () => need('TRUSTCAP_VERIFIER_BIN'),
  sdkDir: () => need('TRUSTCAP_SDK_DIR'),
  assets: () => need('TRUSTCAP_E2E_ASSETS'),
  demoServer: () => need('TRUSTCAP_DEMO_SERVER'),
};

/** Spawns a process and resolves with the URL it prints after `prefix`. */
function startService(cmd, args, options, prefix) {
  const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start`)), 30_000);
    child.once('exit', (code) => reject(new Error(`${cmd} exited early (${code})`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith(prefix)) {
        clearTimeout(timer);
        resolve({ child, url: line.slice(prefix.length).trim() });
      }
    });
  });
}

/** A verifier with one tenant and API key, plus the demo backend in front of it. */
export async function startStack() {
  const dir = mkdtempSync(join(tmpdir(), 'trustcap-e2e-'));
  const bin = env.verifierBin();
  const base = ['--database', `sqlite://${join(dir, 'verifier.db')}?mode=rwc`, '--secret-file', join(dir, 'secret.key')];
  const cli = (...args) => execFileSync(bin, [...base, ...args], { encoding: 'utf8' }).trim().split('\n').pop().trim();
  cli('migrate');
  const tenant = cli('create-tenant', '--name', 'e2e tenant');
  const apiKey = cli('create-api-key', '--tenant', tenant);
  const verifier = await startService(bin, [...base, 'serve', '--bind', '127.0.0.1:0'], {}, 'listening on ');
  const demo = await startService('node', [env.demoServer()], {
    env: {
      ...process.env,
      PORT: '0',
      TRUSTCAP_VERIFIER_URL: verifier.url,
      TRUSTCAP_API_KEY: apiKey,
      TRUSTCAP_SDK_DIR: env.sdkDir(),
    },
  }, 'demo listening on ');
  return {
    verifierUrl: verifier.url,
    demoUrl: demo.url,
    apiKey,
    tenant,
    cli,
    async session(id) {
      const res = await fetch(`${verifier.url}/v1/sessions/${id}`, { headers: { authorization: `Bearer ${apiKey}` } });
      if (!res.ok) throw new Error(`GET session ${id}: ${res.status}`);
      return res.json();
    },
    async stop() {
      for (const child of [demo.child, verifier.child]) {
        child.removeAllListeners('exit');
        child.kill('SIGTERM');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with the project's flags and `extraArgs`. */
export async function launchChromium(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      ...extraArgs,
    ],
  });
}

/** Debian's Chromium, headless, with the Y4M file as its camera (permission granted). */
export async function launchBrowser(y4m) {
  return launchChromium([
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-video-capture=${y4m}`,
  ]);
}

/**
 * Debian's Chromium, headless, where the camera permission is denied: a fake camera device but no
 * `--use-fake-ui-for-media-stream`, so getUserMedia rejects with NotAllowedError (as in a webview
 * or after the user said no); with `device: false` there is no camera at all (NotFoundError).
 */
export async function launchBrowserWithoutCamera({ device = true } = {}) {
  return launchChromium(device ? ['--use-fake-device-for-media-stream'] : []);
}

/** Splits an envelope (see crates/protocol/src/envelope.rs) into its regions. */
export function envelopeParts(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const manifestLen = view.getUint32(8);
  const manifestStart = 76;
  const manifest = JSON.parse(new TextDecoder().decode(bytes.subarray(manifestStart, manifestStart + manifestLen)));
  const parts = [];
  let offset = manifestStart + manifestLen;
  while (offset < bytes.length) {
    const len = view.getUint32(offset);
    parts.push({ start: offset + 4, len });
    offset += 4 + len;
  }
  return { manifest, parts };
}

/**
 * Waits for the <trustcap-capture> review screen (the captured picture) and presses "Use this photo"
 * (Playwright's CSS selectors reach into the element's open shadow root).
 */
export async function confirmReview(page, timeout = 60_000) {
  await page.waitForSelector('trustcap-capture[screen="review"]', { timeout });
  await page.click('trustcap-capture #confirm');
}
