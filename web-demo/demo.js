// The demo page: uses @trustcap/web exactly as an integrator would.
//
// URL parameter: `autostart=1` starts the capture on load (used by the end-to-end test).
// The page never forces a capture: only the SDK's quality gate takes the picture.

import { createCapture } from '/sdk/index.js';

const POLL_MS = 500;
const POLL_LIMIT = 240; // 2 minutes
const FAILED_STATUSES = new Set(['failed', 'rejected', 'expired', 'cancelled', 'canceled', 'error']);

const startButton = document.querySelector('#start');
const video = document.querySelector('#camera');
const still = document.querySelector('#still');
const overlay = document.querySelector('#overlay');
const guidance = document.querySelector('#guidance');
const status = document.querySelector('#status');
const params = new URLSearchParams(location.search);

let capture = null;

function setStatus(code, text) {
  status.dataset.status = code;
  status.textContent = text;
}

function setGuidance(code, text) {
  guidance.dataset.code = code;
  if (guidance.textContent !== text) guidance.textContent = text;
}

async function api(method, path) {
  const response = await fetch(path, { method, headers: { Accept: 'application/json' } });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const e = data && data.error;
    const error = new Error((e && e.message) || `the demo backend answered ${response.status}`);
    error.code = (e && e.code) || `http_${response.status}`;
    throw error;
  }
  return data;
}

function fail(code, message) {
  setStatus(`error:${code}`, `Something went wrong (${code}): ${message}`);
  startButton.disabled = false;
  startButton.textContent = 'Try again';
  if (capture) capture.stop();
  capture = null;
}

async function waitForResult(sessionId) {
  for (let i = 0; i < POLL_LIMIT; i++) {
    const session = await api('GET', `/api/sessions/${encodeURIComponent(sessionId)}`);
    if (session.status === 'submitted') {
      const verified = session.captures.length > 0 && session.captures.every((c) => c.signature_verified);
      setGuidance('done', 'Done. You can close this page.');
      setStatus(
        'submitted',
        verified
          ? 'Thank you! Your document was received and its signature verified.'
          : 'Thank you! Your document was received.',
      );
      return;
    }
    if (FAILED_STATUSES.has(session.status)) {
      fail(session.status, 'the verification session did not complete.');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  fail('timeout', 'no result from the verifier in time.');
}

async function run() {
  startButton.disabled = true;
  still.hidden = true;
  video.hidden = false;
  overlay.hidden = false;
  setStatus('starting', 'Starting…');
  setGuidance('', 'Opening the camera…');
  try {
    const session = await api('POST', '/api/session');
    capture = await createCapture({
      verifierUrl: session.verifier_url,
      token: session.client_token,
      step: 'document_front',
      video,
      canvas: overlay,
    });

    capture.addEventListener('guidance', (e) => setGuidance(e.detail.code, e.detail.message));
    capture.addEventListener('captured', (e) => {
      setGuidance('captured', 'Got it! Hold on while we upload the picture.');
      still.src = URL.createObjectURL(e.detail.image);
      still.hidden = false;
      video.hidden = true;
      overlay.hidden = true;
    });
    capture.addEventListener('uploading', () => setStatus('uploading', 'Uploading…'));
    capture.addEventListener('uploaded', () => {
      setStatus('uploading', 'Uploaded. Waiting for confirmation…');
      waitForResult(session.session_id).catch((err) => fail(err.code || 'network_error', err.message));
    });
    capture.addEventListener('error', (e) => fail(e.detail.code, e.detail.message));

    await capture.start();
    setStatus('capturing', 'Capturing: follow the instructions above.');
  } catch (err) {
    // Errors from capture.start() were already reported through the 'error' event.
    if (!status.dataset.status.startsWith('error:')) fail(err.code || 'internal', err.message);
  }
}

startButton.addEventListener('click', () => {
  run();
});

if (params.get('autostart') === '1') run();
