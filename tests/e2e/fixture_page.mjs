// A minimal integrator page for the runtime tests (file-input fallback, worker analysis), served by a
// small loopback server that passes every other path to the demo server, so the page loads the built
// SDK from `/sdk/` and creates its session through the demo backend. (Playwright's router cannot
// serve it: Chromium treats a page fulfilled by the router as public and then refuses its requests to
// the verifier on loopback, the local-network-access check.) It drives the SDK's headless API and records everything on
// `window.t` for the tests to read. Query: `step`, `worker=0` (force main-thread analysis),
// `auto=N` (autoCaptureFrames), `constraints=<JSON>` (extra camera constraints).
import { launchBrowser, launchBrowserWithoutCamera } from './harness.mjs';
import { createServer } from 'node:http';

export const FIXTURE_PATH = '/fixture/runtime.html';

export const FIXTURE_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>runtime fixture</title></head>
<body>
<video id="video" playsinline muted width="320"></video>
<canvas id="overlay" width="320" height="180"></canvas>
<p id="status" data-status="loading">loading</p>
<p id="guidance" data-code=""></p>
<div id="fallback"></div>
<script type="module">
const t = (window.t = { longTasks: [], guidance: [], events: [], results: [], startError: null, firstGuidanceAt: null });
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) t.longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
} catch {}
// Event-loop responsiveness: a 10 ms timer records how late each tick runs (the page's jank).
t.ticks = [];
let lastTick = performance.now();
setInterval(() => {
  const now = performance.now();
  t.ticks.push([now, now - lastTick]);
  lastTick = now;
}, 10);
const setStatus = (s) => {
  const el = document.getElementById('status');
  el.dataset.status = s;
  el.textContent = s;
};
const params = new URLSearchParams(location.search);
const step = params.get('step') || 'document_front';
try {
  const { createCapture, createFileInput } = await import('/sdk/index.js');
  const res = await fetch('/api/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ steps: [step] }),
  });
  const session = await res.json();
  t.sessionId = session.session_id;
  const capture = await createCapture({
    verifierUrl: session.verifier_url,
    token: session.client_token,
    step,
    video: document.getElementById('video'),
    canvas: document.getElementById('overlay'),
    worker: params.get('worker') === '0' ? false : undefined,
    autoCaptureFrames: params.get('auto') ? Number(params.get('auto')) : undefined,
    constraints: params.get('constraints') ? JSON.parse(params.get('constraints')) : undefined,
  });
  window.capture = capture;
  capture.addEventListener('guidance', (e) => {
    if (t.firstGuidanceAt === null) t.firstGuidanceAt = performance.now();
    t.guidance.push(e.detail.code);
    const g = document.getElementById('guidance');
    g.dataset.code = e.detail.code;
    g.textContent = e.detail.message;
  });
  for (const type of ['captured', 'uploaded', 'paused', 'resumed', 'error']) {
    capture.addEventListener(type, (e) => t.events.push({ type, code: e.detail && e.detail.code }));
  }
  capture.addEventListener('uploaded', () => setStatus('submitted'));
  try {
    setStatus('starting');
    await capture.start();
    t.analysisMode = capture.analysisMode;
    setStatus('capturing');
  } catch (err) {
    t.startError = { code: err.code, fileFallback: err.fileFallback, state: capture.state };
    if (!err.fileFallback) throw err;
    // The camera cannot be used: offer a photo instead.
    const input = createFileInput({ step });
    input.id = 'file';
    input.addEventListener('change', async () => {
      const file = input.files[0];
      input.value = '';
      setStatus('checking');
      try {
        const result = await capture.submitFile(file);
        t.results.push(result);
        if (!result.accepted) setStatus('retry');
      } catch (e) {
        t.results.push({ error: e.code });
        setStatus('failed');
      }
    });
    document.getElementById('fallback').append(input);
    setStatus('fallback');
  }
} catch (err) {
  t.fatal = String(err && err.code ? err.code + ': ' + err.message : err);
  setStatus('failed');
}
</script>
</body>
</html>`;

/**
 * Opens the fixture page in a new browser. `camera`: a Y4M path for the fake camera (granted), or
 * `'denied'` (a fake device but no permission: getUserMedia rejects with NotAllowedError), or
 * `'none'` (no camera device at all: NotFoundError).
 */
export async function openFixture(stack, { camera, query = '', initScript } = {}) {
  let browser;
  if (camera === 'denied' || camera === 'none') {
    browser = await launchBrowserWithoutCamera({ device: camera === 'denied' });
  } else {
    browser = await launchBrowser(camera);
  }
  // Default permissions: headless Chromium answers the camera prompt with a denial unless
  // --use-fake-ui-for-media-stream is set. (Playwright's `permissions: []` would also deny the
  // page's requests to the verifier on another loopback port: Chromium's local-network-access check.)
  const context = await browser.newContext();
  const page = await context.newPage();
  const seen = { uploads: [], consoleErrors: [], workers: [] };
  page.on('worker', (worker) => seen.workers.push(new URL(worker.url()).pathname));
  // Uncaught exceptions and unhandled rejections of the page count as console errors.
  page.on('pageerror', (err) => seen.consoleErrors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') seen.consoleErrors.push(msg.text());
  });
  page.on('request', (req) => {
    if (req.method() === 'POST' && new URL(req.url()).pathname === '/v1/client/captures') {
      seen.uploads.push({ body: req.postDataBuffer() });
    }
  });
  if (initScript) await page.addInitScript(initScript);
  const server = await serveFixture(stack.demoUrl);
  await page.goto(`${server.url}${FIXTURE_PATH}${query ? `?${query}` : ''}`);
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close();
    server.close();
  };
  return { browser, page, seen };
}

/** Serves the fixture page on loopback and passes every other request to the demo server. */
async function serveFixture(demoUrl) {
  const server = createServer(async (req, res) => {
    try {
      const path = new URL(req.url, 'http://x').pathname;
      if (path === '/favicon.ico') {
        res.writeHead(204);
        res.end();
        return;
      }
      if (path === FIXTURE_PATH) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(FIXTURE_HTML);
        return;
      }
      let body;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        const chunks = [];
        for await (const chunk of req) chunks.push(chunk);
        body = Buffer.concat(chunks);
      }
      const upstream = await fetch(`${demoUrl}${req.url}`, {
        method: req.method,
        headers: { 'content-type': req.headers['content-type'] || 'application/octet-stream' },
        body,
      });
      const headers = {};
      for (const name of ['content-type', 'cache-control']) {
        const value = upstream.headers.get(name);
        if (value) headers[name] = value;
      }
      res.writeHead(upstream.status, headers);
      res.end(Buffer.from(await upstream.arrayBuffer()));
    } catch (err) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(err));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}
