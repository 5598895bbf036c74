// The demo page: uses @trustcap/web exactly as an integrator would.
//
// The flow: the front of an ID document, then a selfie with live guidance (face in the oval, distance,
// pose, sharpness, light) and a short liveness burst while the user holds still; then the verifier's
// decision. URL parameters: `autostart=1` starts the capture on load (used by the end-to-end tests);
// `steps=selfie` (or `document_front`, or both comma-separated) runs only those steps.
// The page never forces a capture: only the SDK's quality gates take the pictures.

import { createCapture, prefetchFaceModule } from '/sdk/index.js';

const POLL_MS = 500;
const POLL_LIMIT = 240; // 2 minutes
const FAILED_STATUSES = new Set(['failed', 'rejected', 'expired', 'cancelled', 'canceled', 'error']);
const ALL_STEPS = ['document_front', 'selfie'];

const STEP_TEXT = {
  document_front: {
    title: 'Photograph the front of your ID document',
    lead: 'Hold it flat, inside the frame, in good light; the picture is taken automatically when it is sharp.',
    captured: 'Got it! Hold on while we upload the picture.',
  },
  selfie: {
    title: 'Take a selfie',
    lead: 'Put your face in the oval and follow the hints. When the oval turns green, hold still for a second.',
    captured: 'Got it! Hold on while we upload your selfie.',
  },
};

const DECISION_TEXT = {
  approved: 'Verified: your identity check was approved.',
  declined: 'Your identity check was declined.',
  review: 'Thank you! A person will review your identity check.',
};

const startButton = document.querySelector('#start');
const video = document.querySelector('#camera');
const still = document.querySelector('#still');
const overlay = document.querySelector('#overlay');
const guidance = document.querySelector('#guidance');
const status = document.querySelector('#status');
const stepTitle = document.querySelector('#step-title');
const stepLead = document.querySelector('#step-lead');
const decisionBox = document.querySelector('#decision');
const params = new URLSearchParams(location.search);

let capture = null;

function requestedSteps() {
  const asked = (params.get('steps') || '').split(',').filter(Boolean);
  const steps = ALL_STEPS.filter((s) => asked.length === 0 || asked.includes(s));
  return steps.length ? steps : ALL_STEPS;
}

function setStatus(code, text) {
  status.dataset.status = code;
  status.textContent = text;
}

function setGuidance(code, text) {
  guidance.dataset.code = code;
  if (guidance.textContent !== text) guidance.textContent = text;
}

function setStep(step) {
  guidance.dataset.step = step;
  stepTitle.textContent = STEP_TEXT[step].title;
  stepLead.textContent = STEP_TEXT[step].lead;
  // The selfie preview is mirrored for the user; the SDK analyses the unmirrored frames.
  video.classList.toggle('mirrored', step === 'selfie');
  overlay.classList.toggle('mirrored', step === 'selfie');
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

class StepFailed extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function fail(code, message) {
  setStatus(`error:${code}`, `Something went wrong (${code}): ${message}`);
  startButton.disabled = false;
  startButton.textContent = 'Try again';
  if (capture) capture.stop();
  capture = null;
}

/** Runs one capture step to its upload; rejects with a StepFailed. */
async function captureStep(session, step) {
  setStep(step);
  still.hidden = true;
  video.hidden = false;
  overlay.hidden = false;
  setGuidance('', 'Opening the camera…');
  capture = await createCapture({
    verifierUrl: session.verifier_url,
    token: session.client_token,
    step,
    video,
    canvas: overlay,
  });
  const done = new Promise((resolve, reject) => {
    capture.addEventListener('guidance', (e) => {
      const { code, message, burst } = e.detail;
      setGuidance(code, burst ? `${message} (${burst.frames}/${burst.total})` : message);
    });
    capture.addEventListener('captured', (e) => {
      setGuidance('captured', STEP_TEXT[step].captured);
      still.src = URL.createObjectURL(e.detail.image);
      still.classList.toggle('mirrored', step === 'selfie');
      still.hidden = false;
      video.hidden = true;
      overlay.hidden = true;
    });
    capture.addEventListener('uploading', () => setStatus('uploading', 'Uploading…'));
    capture.addEventListener('uploaded', (e) => resolve(e.detail));
    capture.addEventListener('error', (e) => reject(new StepFailed(e.detail.code, e.detail.message)));
  });
  try {
    await capture.start();
  } catch (err) {
    throw new StepFailed(err.code || 'internal', err.message);
  }
  setStatus('capturing', 'Capturing: follow the instructions above.');
  const uploaded = await done;
  capture = null;
  return uploaded;
}

async function waitForResult(sessionId) {
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
      setGuidance('done', 'Done. You can close this page.');
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

async function run() {
  startButton.disabled = true;
  decisionBox.hidden = true;
  delete decisionBox.dataset.state;
  setStatus('starting', 'Starting…');
  try {
    const session = await api('POST', '/api/session', { steps: requestedSteps() });
    for (const [i, step] of session.steps.entries()) {
      // Warm the face module up in idle time while the earlier steps run.
      if (session.steps.slice(i + 1).includes('selfie')) prefetchFaceModule();
      await captureStep(session, step);
    }
    setStatus('uploading', 'Uploaded. Waiting for confirmation…');
    await waitForResult(session.session_id);
  } catch (err) {
    if (!status.dataset.status.startsWith('error:')) fail(err.code || 'internal', err.message);
  }
}

startButton.addEventListener('click', () => {
  run();
});

if (params.get('autostart') === '1') run();
