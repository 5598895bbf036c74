// The demo page: uses @trustcap/web exactly as an integrator would, through its Web Component.
//
// The page asks its own backend (server.mjs) for a verification session, hands the session's client token
// to <trustcap-capture> (the front of an ID document, then a selfie with live guidance and a short liveness
// burst; each picture is reviewed before it is sent), and once every step is uploaded shows the verifier's
// decision, which the backend reads with the API key. URL parameters: `autostart=1` starts the capture as
// soon as the session exists (used by the end-to-end tests); `steps=selfie` (or `document_front`, or both
// comma-separated) runs only those steps; `lang=es` (or `fr`, `en`) picks the language of the capture UI.
// The page never forces a capture: only the SDK's quality gates take the pictures.

import '/sdk/element.js';

const POLL_MS = 500;
const POLL_LIMIT = 240; // 2 minutes
const FAILED_STATUSES = new Set(['failed', 'rejected', 'expired', 'cancelled', 'canceled', 'error']);
const ALL_STEPS = ['document_front', 'selfie'];

const DECISION_TEXT = {
  approved: 'Verified: your identity check was approved.',
  declined: 'Your identity check was declined.',
  review: 'Thank you! A person will review your identity check.',
};

const element = document.querySelector('#capture');
const status = document.querySelector('#status');
const decisionBox = document.querySelector('#decision');
const params = new URLSearchParams(location.search);

let sessionId = null;

function requestedSteps() {
  const asked = (params.get('steps') || '').split(',').filter(Boolean);
  const steps = ALL_STEPS.filter((s) => asked.length === 0 || asked.includes(s));
  return steps.length ? steps : ALL_STEPS;
}

function setStatus(code, text) {
  status.dataset.status = code;
  status.textContent = text;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
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
}

async function waitForResult() {
  let submitted = false;
  for (let i = 0; i < POLL_LIMIT; i++) {
    const session = await api('GET', `/api/sessions/${encodeURIComponent(sessionId)}`);
    if (FAILED_STATUSES.has(session.status)) {
      fail(session.status, 'the verification session did not complete.');
      return;
    }
    if (session.status === 'submitted' && !submitted) {
      submitted = true;
      const verified = session.captures.length > 0 && session.captures.every((c) => c.signature_verified);
      setStatus(
        'submitted',
        verified
          ? 'Thank you! Your pictures were received and their signatures verified.'
          : 'Thank you! Your pictures were received.',
      );
    }
    if (session.decision) {
      const state = session.decision.state;
      decisionBox.dataset.state = state;
      decisionBox.hidden = false;
      const checks = session.checks
        .filter((c) => c.outcome !== 'passed')
        .map((c) => `${c.name}: ${c.outcome}${c.reasons.length ? ` (${c.reasons.join(', ')})` : ''}`);
      decisionBox.textContent = [DECISION_TEXT[state] || `Decision: ${state}.`, ...checks].join('\n');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  if (!submitted) fail('timeout', 'no result from the verifier in time.');
}

element.addEventListener('uploading', () => setStatus('uploading', 'Uploading…'));
element.addEventListener('done', () => setStatus('capturing', 'Picture received. Continue with the next step.'));
element.addEventListener('error', (e) => fail(e.detail.code, e.detail.message));
element.addEventListener('trustcap-complete', () => {
  setStatus('uploading', 'Uploaded. Waiting for confirmation…');
  waitForResult().catch((err) => fail(err.code || 'internal', err.message));
});

async function init() {
  try {
    const session = await api('POST', '/api/session', { steps: requestedSteps() });
    sessionId = session.session_id;
    const lang = params.get('lang');
    if (lang) element.setAttribute('lang', lang);
    element.setAttribute('steps', session.steps.join(','));
    element.setAttribute('verifier-url', session.verifier_url);
    if (params.get('autostart') === '1') element.setAttribute('autostart', '');
    // Setting the token last: with `autostart` it starts the capture.
    element.setAttribute('token', session.client_token);
    if (params.get('autostart') !== '1') setStatus('ready', 'Press Start when you are ready.');
    else setStatus('capturing', 'Follow the instructions above.');
  } catch (err) {
    fail(err.code || 'internal', err.message);
  }
}

init();
