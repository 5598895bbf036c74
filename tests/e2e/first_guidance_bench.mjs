// `cargo xtask bench first-guidance`: time from page load to the first guidance on screen.
//
// Debian's Chromium, headless, with the fake camera playing the sharp document clip; the demo page
// (web-demo/, served by the demo backend with the built package) with `autostart=1`, so the page
// creates a session at the demo backend, loads the SDK and its WebAssembly core, registers the
// capture key with the verifier, opens the camera and analyses frames. Each run is a fresh browser
// context (cold: empty HTTP and code caches), followed by a second load in the same context (warm).
// The time is measured in the page from navigation start (performance.timeOrigin) to the first
// frame painted after <trustcap-capture> showed its first guidance code (its re-dispatched `guidance`
// event); the page's own phases
// (module scripts, wasm, session, key registration, camera) come from the Resource Timing entries
// and from wrappers around getUserMedia and WebAssembly instantiation installed before the page runs.
//
// Environment: as the end-to-end suite (TRUSTCAP_VERIFIER_BIN, TRUSTCAP_SDK_DIR, TRUSTCAP_E2E_ASSETS,
// TRUSTCAP_DEMO_SERVER); TRUSTCAP_BENCH_RUNS (default 15). Prints a readable report and, as its last
// line, one JSON object.
import { join } from 'node:path';
import { startStack, launchBrowser, env } from './harness.mjs';

const RUNS = Number.parseInt(process.env.TRUSTCAP_BENCH_RUNS ?? '15', 10);
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 200) throw new Error('TRUSTCAP_BENCH_RUNS must be 1..200');

// Installed before any page script: records the phases and the first guidance on screen.
function instrument() {
  const marks = {};
  window.__trustcapBench = marks;
  const media = navigator.mediaDevices;
  if (media && media.getUserMedia) {
    const original = media.getUserMedia.bind(media);
    media.getUserMedia = async (constraints) => {
      marks.cameraStart = performance.now();
      try {
        return await original(constraints);
      } finally {
        marks.cameraOpen = performance.now();
      }
    };
  }
  for (const name of ['instantiate', 'instantiateStreaming']) {
    const original = WebAssembly[name];
    if (typeof original !== 'function') continue;
    WebAssembly[name] = async (...args) => {
      marks.wasmStart ??= performance.now();
      try {
        return await original.apply(WebAssembly, args);
      } finally {
        marks.wasmReady ??= performance.now();
      }
    };
  }
  // <trustcap-capture> updates its guidance line (in its shadow root), then re-dispatches the SDK's
  // `guidance` event, which bubbles to the document: the next animation frame shows it.
  document.addEventListener('guidance', (e) => {
    const code = e.detail && e.detail.code;
    if (marks.guidanceDom !== undefined || !code || code === 'captured') return;
    marks.guidanceDom = performance.now();
    marks.code = code;
    requestAnimationFrame(() => {
      marks.guidancePainted = performance.now();
    });
  });
}

/** What the page measured, with the resource timings of the requests that matter. */
function collect() {
  const m = window.__trustcapBench;
  const nav = performance.getEntriesByType('navigation')[0];
  const end = (suffix, method) => {
    const entry = performance
      .getEntriesByType('resource')
      .find((e) => new URL(e.name).pathname.endsWith(suffix) && (!method || e.initiatorType === method));
    return entry ? { start: entry.startTime, end: entry.responseEnd } : null;
  };
  return {
    ...m,
    domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
    sdkIndex: end('/sdk/index.js'),
    coreWasm: end('/trustcap_wasm_bg.wasm'),
    session: end('/api/session'),
    clientSession: end('/v1/client/session'),
    key: end('/v1/client/key'),
  };
}

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
};
const round = (x) => (x === null || x === undefined || Number.isNaN(x) ? null : Math.round(x * 10) / 10);

async function load(context, url) {
  const page = await context.newPage();
  // The measurement is the page's own (from navigation start): wait only for the navigation to commit.
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForFunction(() => window.__trustcapBench && window.__trustcapBench.guidancePainted !== undefined, null, {
    timeout: 30_000,
  });
  const result = await page.evaluate(collect);
  await page.close();
  return result;
}

const stack = await startStack();
const browser = await launchBrowser(join(env.assets(), 'document_sharp.y4m'));
const url = `${stack.demoUrl}/?autostart=1&steps=document_front`;
const runs = { cold: [], warm: [] };
try {
  // One unmeasured load: the verifier's and the demo backend's first requests (connection set-up,
  // SQLite pages) are not what a page load costs.
  {
    const context = await browser.newContext();
    await context.addInitScript(instrument);
    await load(context, url);
    await context.close();
  }
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext();
    await context.addInitScript(instrument);
    runs.cold.push(await load(context, url));
    runs.warm.push(await load(context, url));
    await context.close();
  }
} finally {
  await browser.close();
  await stack.stop();
}

const phases = [
  ['DOMContentLoaded', (r) => r.domContentLoaded],
  ['SDK index.js loaded', (r) => r.sdkIndex?.end],
  ['session from the demo backend', (r) => r.session?.end],
  ['core wasm downloaded', (r) => r.coreWasm?.end],
  ['core wasm instantiated', (r) => r.wasmReady],
  ['GET /v1/client/session done', (r) => r.clientSession?.end],
  ['capture key registered', (r) => r.key?.end],
  ['camera asked (getUserMedia)', (r) => r.cameraStart],
  ['camera open', (r) => r.cameraOpen],
  ['first guidance in the DOM', (r) => r.guidanceDom],
  ['first guidance painted', (r) => r.guidancePainted],
];
const summary = {};
console.log(`\nTime from navigation start to the first guidance on screen: the demo page, ${RUNS} runs`);
console.log('(fresh browser context each; "warm" is a second load in the same context). Milliseconds:');
for (const kind of ['cold', 'warm']) {
  console.log(`\n  ${kind}:                               median      p90      min      max`);
  for (const [name, pick] of phases) {
    const values = runs[kind].map(pick).filter((v) => typeof v === 'number');
    if (values.length === 0) continue;
    const row = [0.5, 0.9].map((q) => quantile(values, q)).concat([Math.min(...values), Math.max(...values)]);
    console.log(`    ${name.padEnd(34)} ${row.map((v) => v.toFixed(1).padStart(8)).join(' ')}`);
  }
  const painted = runs[kind].map((r) => r.guidancePainted);
  summary[kind] = { median: quantile(painted, 0.5), p90: quantile(painted, 0.9) };
}
console.log(`\n  first guidance code: ${[...new Set(runs.cold.map((r) => r.code))].join(', ')}`);
console.log(
  JSON.stringify({
    first_guidance_ms_median: round(summary.cold.median),
    first_guidance_ms_p90: round(summary.cold.p90),
    first_guidance_warm_ms_median: round(summary.warm.median),
    first_guidance_warm_ms_p90: round(summary.warm.p90),
    runs: RUNS,
    goal_ms: 1000,
  }),
);
