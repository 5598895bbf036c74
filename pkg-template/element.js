// @trustcap/web/element: <trustcap-capture>, a Web Component with a default UI over the headless
// capture API (index.js): camera view with the document frame or face oval, live guidance in an
// ARIA live region, "Step k of n", a manual shutter, a review of the captured image before upload,
// upload progress, a done screen and an error screen with the stable code and a retry button.
// Keyboard operable with visible focus; respects prefers-reduced-motion; WCAG AA contrast; English,
// Spanish and French messages (i18n.js) with integrator overrides.

import { createCapture, prefetchFaceModule, preload, TrustCapError, STEPS } from './index.js';
import { createTranslator, guidanceMessage, resolveLanguage } from './i18n.js';

/** The custom element's tag name. */
export const TAG_NAME = 'trustcap-capture';

// Events of the headless Capture that the element re-dispatches from itself (bubbling, composed).
const FORWARDED_EVENTS = ['guidance', 'quality', 'captured', 'uploading', 'uploaded', 'done', 'error'];
const MAX_STEPS = 8;
// Guidance is spoken (the live region) once its code has held this long: frame-rate changes are not read out.
const ANNOUNCE_AFTER_MS = 700;

/**
 * Parses a `steps` attribute (`document-front,document-back,selfie`; underscores work too) into
 * step names (`document_front`, ...). Throws a {@link TrustCapError} `invalid_options` on an
 * unknown, repeated or missing step.
 *
 * @param {string | null} value
 * @returns {string[]}
 */
export function parseSteps(value) {
  const names = String(value ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase().replace(/-/g, '_'))
    .filter(Boolean);
  if (names.length === 0) throw new TrustCapError('invalid_options', 'steps must name at least one step');
  if (names.length > MAX_STEPS) throw new TrustCapError('invalid_options', 'too many steps');
  for (const name of names) {
    if (!STEPS.includes(name)) throw new TrustCapError('invalid_options', `unknown step "${name}"`);
  }
  if (new Set(names).size !== names.length) throw new TrustCapError('invalid_options', 'a step is repeated');
  return names;
}

const STYLE = `
:host { display: block; color: #1f2937; background: #ffffff; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 40rem; }
:host([hidden]) { display: none; }
[hidden] { display: none !important; }
.root { padding: 1rem; }
.progress { margin: 0 0 0.25rem; font-size: 0.875rem; font-weight: 600; color: #374151; }
h2 { margin: 0 0 0.5rem; font-size: 1.375rem; line-height: 1.3; }
.lead { margin: 0 0 1rem; }
.viewer { position: relative; background: #111827; border-radius: 0.5rem; overflow: hidden; aspect-ratio: 4 / 3; }
.viewer video, .viewer canvas, .viewer img { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: contain; }
.mirrored { transform: scaleX(-1); }
.still { display: block; width: 100%; max-height: 24rem; object-fit: contain; background: #111827; border-radius: 0.5rem; }
.guidance { min-height: 1.5em; margin: 0.75rem 0; padding: 0.5rem 0.75rem; border-radius: 0.375rem; background: #111827; color: #ffffff; font-weight: 600; }
.guidance:empty { visibility: hidden; }
.guidance[data-code="ready"], .guidance.burst { background: #166534; }
.sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.actions { display: flex; flex-wrap: wrap; gap: 0.75rem; margin-top: 1rem; }
button { font: inherit; font-weight: 600; min-height: 2.75rem; padding: 0.5rem 1.25rem; border-radius: 0.375rem; border: 2px solid #1d4ed8; background: #1d4ed8; color: #ffffff; cursor: pointer; transition: background-color 0.15s ease; }
button:hover { background: #1e40af; border-color: #1e40af; }
button.secondary { background: #ffffff; color: #1d4ed8; }
button.secondary:hover { background: #eff6ff; }
button:disabled { background: #e5e7eb; border-color: #6b7280; color: #374151; cursor: not-allowed; }
button:focus-visible, h2:focus-visible, input:focus-visible { outline: 3px solid #b45309; outline-offset: 3px; }
.file { display: flex; flex-direction: column; gap: 0.5rem; }
.file label { font-weight: 600; }
h2:focus:not(:focus-visible) { outline: none; }
progress { width: 100%; height: 1rem; accent-color: #1d4ed8; }
.code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; color: #374151; }
.spinner { width: 2rem; height: 2rem; border: 4px solid #bfdbfe; border-top-color: #1d4ed8; border-radius: 50%; animation: spin 0.9s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { animation: none !important; transition: none !important; scroll-behavior: auto !important; }
}
`;

const TEMPLATE = `
<style>${STYLE}</style>
<section class="root" part="root" aria-labelledby="title">
  <p class="progress" id="progress" part="progress"></p>
  <h2 id="title" tabindex="-1" part="title"></h2>
  <p class="lead" id="lead" part="lead"></p>
  <div class="viewer" id="viewer" part="viewer" hidden>
    <video id="camera" playsinline muted autoplay></video>
    <canvas id="overlay" aria-hidden="true"></canvas>
  </div>
  <img class="still" id="still" part="still" hidden />
  <p class="guidance" id="guidance" part="guidance" data-code=""></p>
  <p class="sr-only" id="announce" role="status" aria-live="polite"></p>
  <div id="uploading" hidden><div class="spinner" aria-hidden="true"></div><progress id="upload"></progress></div>
  <p class="code" id="error-code" part="error-code" hidden></p>
  <div class="file" id="file-field" part="file" hidden>
    <label for="file" id="file-label"></label>
    <input type="file" id="file" accept="image/*" />
  </div>
  <div class="actions" part="actions">
    <button id="start" type="button" part="button start"></button>
    <button id="capture" type="button" class="secondary" part="button capture"></button>
    <button id="confirm" type="button" part="button confirm"></button>
    <button id="retake" type="button" class="secondary" part="button retake"></button>
    <button id="retry" type="button" part="button retry"></button>
  </div>
</section>
`;

// The controls each screen shows (everything else is hidden).
const SCREEN_PARTS = {
  intro: ['progress', 'lead', 'start'],
  camera: ['progress', 'lead', 'viewer', 'capture'],
  review: ['progress', 'lead', 'still', 'confirm', 'retake'],
  uploading: ['progress', 'uploading'],
  done: ['lead'],
  error: ['lead', 'error-code', 'retry'],
  // The camera failed (denied, missing, a webview without getUserMedia): a photo from a file instead.
  fallback: ['progress', 'lead', 'file-field'],
};
const TOGGLED = [
  'progress',
  'lead',
  'viewer',
  'still',
  'uploading',
  'error-code',
  'file-field',
  'start',
  'capture',
  'confirm',
  'retake',
  'retry',
];

/**
 * `<trustcap-capture token="…" verifier-url="…" steps="document-front,selfie">`: the whole capture
 * flow with a default UI. Attributes: `token`, `verifier-url`, `steps` (default `document-front`),
 * `lang` (`en`, `es`, `fr`; default the browser's language), `autostart` (start as soon as the token
 * is set), `no-review` (upload without the review screen), `document-format` (`id1` or `id3`).
 * Property `messages`: per-key overrides of the message catalogs. Re-dispatches the headless events
 * (`guidance`, `quality`, `captured`, `uploading`, `uploaded`, `done`, `error`; bubbling and composed)
 * and emits `trustcap-complete` once every step is uploaded. The host's `screen` attribute names the
 * current screen: `intro`, `camera`, `fallback` (no usable camera: a photo from a file), `review`, `uploading`, `done` or `error`.
 */
export class TrustCapCaptureElement extends HTMLElement {
  /** The attributes the element reacts to. */
  static get observedAttributes() {
    return ['token', 'verifier-url', 'steps', 'lang', 'autostart'];
  }

  #root;
  #ui = {};
  #messages = {};
  #t = createTranslator('en');
  #screen = 'intro';
  #steps = ['document_front'];
  #stepsError = null;
  #index = 0;
  #results = [];
  #capture = null;
  #running = false;
  #stillUrl = null;
  #error = null;
  #announceTimer = null;
  #pendingCode = null;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    this.#root.innerHTML = TEMPLATE;
    for (const el of this.#root.querySelectorAll('[id]')) this.#ui[el.id] = el;
    this.#ui.start.addEventListener('click', () => this.start());
    this.#ui.capture.addEventListener('click', () => this.#capture?.captureNow());
    this.#ui.confirm.addEventListener('click', () => this.#capture?.confirm());
    this.#ui.retake.addEventListener('click', () => this.#retake());
    this.#ui.retry.addEventListener('click', () => this.#retry());
    this.#ui.file.addEventListener('change', () => this.#onFile());
  }

  /** Per-key overrides of the message catalogs (flat, or by language: `{ es: { ... } }`). */
  get messages() {
    return this.#messages;
  }

  set messages(value) {
    this.#messages = value && typeof value === 'object' ? value : {};
    this.#render();
  }

  /** The current screen: `intro`, `camera`, `fallback` (no usable camera: a photo from a file), `review`, `uploading`, `done` or `error`. */
  get screen() {
    return this.#screen;
  }

  /** The steps of the flow, parsed from the `steps` attribute. */
  get steps() {
    return [...this.#steps];
  }

  /** @internal */
  connectedCallback() {
    // A `messages` value set before the element was defined shadows the accessor: re-apply it.
    if (Object.prototype.hasOwnProperty.call(this, 'messages')) {
      const value = this.messages;
      delete this.messages;
      this.messages = value;
    }
    this.#readSteps();
    this.#render();
    // The wasm core downloads and compiles while the page is still getting its token.
    preload();
    this.#maybeAutostart();
  }

  /** @internal */
  disconnectedCallback() {
    this.stop();
  }

  /** @internal */
  attributeChangedCallback(name) {
    if (name === 'steps' && !this.#running) this.#readSteps();
    if (this.isConnected) {
      this.#render();
      if (name === 'token' || name === 'autostart') this.#maybeAutostart();
    }
  }

  /**
   * Starts the flow at its first step (or, after an error, at the step that failed). Does nothing
   * while a capture runs. Problems are shown on the error screen and emitted as `error`.
   */
  async start() {
    if (this.#running) return;
    if (this.#stepsError) return this.#showError(this.#stepsError);
    if (this.#screen === 'done') {
      this.#index = 0;
      this.#results = [];
    }
    this.#running = true;
    await this.#runStep();
  }

  /** Stops the camera and any upload in progress and returns to the start screen of the current step. */
  stop() {
    const capture = this.#capture;
    this.#capture = null;
    this.#running = false;
    capture?.stop();
    this.#revokeStill();
    if (this.#screen !== 'done') this.#show('intro');
  }

  // ---- internals ----

  #readSteps() {
    try {
      this.#steps = parseSteps(this.getAttribute('steps') ?? 'document-front');
      this.#stepsError = null;
    } catch (err) {
      this.#stepsError = err;
    }
    this.#index = Math.min(this.#index, this.#steps.length - 1);
  }

  #maybeAutostart() {
    if (this.hasAttribute('autostart') && this.getAttribute('token') && !this.#running && this.#screen === 'intro') {
      this.start();
    }
  }

  get #step() {
    return this.#steps[this.#index];
  }

  async #runStep() {
    const step = this.#step;
    this.#error = null;
    this.#show('camera');
    this.#setGuidance('', this.#t('camera.opening'));
    const mirrored = step === 'selfie';
    this.#ui.camera.classList.toggle('mirrored', mirrored);
    this.#ui.overlay.classList.toggle('mirrored', mirrored);
    let capture;
    try {
      capture = await createCapture({
        verifierUrl: this.getAttribute('verifier-url') || '',
        token: this.getAttribute('token') || '',
        step,
        video: this.#ui.camera,
        canvas: this.#ui.overlay,
        review: !this.hasAttribute('no-review'),
        documentFormat: this.getAttribute('document-format') || undefined,
      });
    } catch (err) {
      this.#running = false;
      this.#showError(err);
      this.#dispatch('error', { code: err.code || 'internal', message: err.message, status: err.status });
      return;
    }
    this.#capture = capture;
    for (const type of FORWARDED_EVENTS) {
      capture.addEventListener(type, (e) => {
        if (this.#capture !== capture) return;
        this.#onCaptureEvent(type, e.detail);
        this.#dispatch(type, e.detail);
      });
    }
    // Warm the face module up while the earlier steps run.
    if (this.#steps.slice(this.#index + 1).includes('selfie')) prefetchFaceModule();
    try {
      await capture.start();
    } catch {
      // Shown and re-dispatched through the `error` event.
    }
  }

  #onCaptureEvent(type, detail) {
    switch (type) {
      case 'guidance':
        this.#onGuidance(detail);
        break;
      case 'captured':
        this.#revokeStill();
        this.#stillUrl = URL.createObjectURL(detail.image);
        this.#ui.still.src = this.#stillUrl;
        this.#ui.still.classList.toggle('mirrored', this.#step === 'selfie');
        if (this.hasAttribute('no-review')) this.#show('uploading');
        else this.#show('review');
        break;
      case 'uploading':
        this.#show('uploading');
        this.#onUploadProgress(detail);
        break;
      case 'done':
        this.#onStepDone(detail);
        break;
      case 'error':
        if (detail && detail.fileFallback && this.#capture && this.#capture.state === 'fallback') {
          // The camera failed but the capture can take a photo from a file (same checks, same upload).
          this.#error = { code: detail.code, message: detail.message || '' };
          this.#show('fallback');
          break;
        }
        this.#running = false;
        this.#capture = null;
        this.#showError(detail);
        break;
      default:
        break;
    }
  }

  #onGuidance(detail) {
    const step = this.#step;
    const message = guidanceMessage(this.#t, step, detail.code) ?? detail.message;
    if (detail.burst) {
      const text = this.#t('camera.burst', { message, frames: detail.burst.frames, total: detail.burst.total });
      this.#setGuidance(detail.code, text, true, message);
    } else {
      this.#setGuidance(detail.code, message);
    }
  }

  #onUploadProgress(detail) {
    const bar = this.#ui.upload;
    if (detail && Number.isFinite(detail.loaded) && Number.isFinite(detail.total) && detail.total > 0) {
      bar.max = detail.total;
      bar.value = Math.min(detail.loaded, detail.total);
    } else {
      bar.removeAttribute('value');
    }
  }

  #onStepDone(detail) {
    this.#results.push({ step: detail.step || this.#step, captureId: detail.captureId, status: detail.status });
    this.#capture = null;
    this.#revokeStill();
    // After the `done` event has been re-dispatched: the next step, or the end of the flow.
    queueMicrotask(() => {
      if (!this.#running) return;
      if (this.#index + 1 < this.#steps.length) {
        this.#index += 1;
        this.#runStep();
        return;
      }
      this.#running = false;
      this.#show('done');
      this.#dispatch('trustcap-complete', { captures: [...this.#results] });
    });
  }

  /** A photo chosen on the fallback screen: checked like a camera frame, then reviewed and uploaded. */
  async #onFile() {
    const input = this.#ui.file;
    const file = input.files && input.files[0];
    const capture = this.#capture;
    if (!file || !capture) return;
    input.disabled = true;
    this.#setGuidance('', this.#t('fallback.checking'));
    try {
      const result = await capture.submitFile(file);
      if (this.#capture !== capture) return;
      if (!result.accepted) {
        // Too blurry, no document found, …: say why and let the user choose another photo.
        const message = guidanceMessage(this.#t, this.#step, result.guidance.code) ?? result.guidance.message;
        this.#ui.lead.textContent = this.#t('fallback.refused', { message });
        this.#setGuidance(result.guidance.code, this.#ui.lead.textContent);
      }
    } catch {
      // Shown and re-dispatched through the `error` event.
    } finally {
      input.disabled = false;
      input.value = '';
    }
  }

  #retake() {
    if (!this.#capture || this.#capture.state !== 'review') return;
    this.#revokeStill();
    this.#show('camera');
    this.#setGuidance('', this.#t('camera.opening'));
    this.#capture.retake();
  }

  #retry() {
    if (this.#running) return;
    this.start();
  }

  #showError(err) {
    this.#error = { code: (err && err.code) || 'internal', message: (err && err.message) || '' };
    this.#show('error');
  }

  #revokeStill() {
    if (this.#stillUrl) {
      URL.revokeObjectURL(this.#stillUrl);
      this.#stillUrl = null;
      this.#ui.still.removeAttribute('src');
    }
  }

  /**
   * The guidance line on the camera screen (hidden elsewhere), and what the live region says: guidance
   * once its code has held for a moment, a new screen at once.
   */
  #setGuidance(code, text, burst = false, spoken = text) {
    const g = this.#ui.guidance;
    g.dataset.code = code;
    g.dataset.step = this.#step || '';
    g.classList.toggle('burst', burst);
    g.hidden = this.#screen !== 'camera';
    if (g.textContent !== text) g.textContent = text;
    if (this.#screen !== 'camera') {
      this.#announce(text);
      return;
    }
    if (code === this.#pendingCode && this.#announceTimer !== null) return;
    this.#pendingCode = code;
    clearTimeout(this.#announceTimer);
    this.#announceTimer = setTimeout(() => {
      this.#announceTimer = null;
      this.#announce(spoken);
    }, ANNOUNCE_AFTER_MS);
  }

  #announce(text) {
    if (this.#screen !== 'camera') {
      clearTimeout(this.#announceTimer);
      this.#announceTimer = null;
      this.#pendingCode = null;
    }
    if (this.#ui.announce.textContent !== text) this.#ui.announce.textContent = text;
  }

  /** Switches screens; moves focus to the new screen's heading if focus was inside the element. */
  #show(screen) {
    const hadFocus = this.#root.activeElement !== null;
    this.#screen = screen;
    this.setAttribute('screen', screen);
    this.#render();
    if (screen !== 'camera') {
      // Announce the new screen (its heading, and on the error screen what went wrong).
      const lead = screen === 'error' || screen === 'fallback' ? ` ${this.#ui.lead.textContent}` : '';
      this.#setGuidance('', screen === 'intro' ? '' : `${this.#ui.title.textContent}${lead}`);
    }
    if (hadFocus) this.#ui.title.focus();
  }

  #render() {
    const lang = resolveLanguage(this.getAttribute('lang'));
    this.#t = createTranslator(lang, this.#messages);
    const t = this.#t;
    const ui = this.#ui;
    this.#root.querySelector('.root').setAttribute('lang', lang);
    const visible = new Set(SCREEN_PARTS[this.#screen]);
    for (const id of TOGGLED) ui[id].hidden = !visible.has(id);
    const step = this.#step || 'document_front';
    const kind = step === 'selfie' ? 'selfie' : 'document';
    ui.progress.textContent = t('progress.step', { current: this.#index + 1, total: this.#steps.length });
    ui.camera.setAttribute('aria-label', t('camera.label'));
    ui.start.textContent = t('intro.start');
    ui.start.disabled = !this.getAttribute('token') || !this.getAttribute('verifier-url');
    ui.capture.textContent = t('camera.capture');
    ui.confirm.textContent = t('review.confirm');
    ui.retake.textContent = t('review.retake');
    ui.retry.textContent = t('error.retry');
    ui.still.alt = t('review.image');
    ui.upload.setAttribute('aria-label', t('uploading.progress'));
    ui['error-code'].textContent = this.#error ? t('error.code', { code: this.#error.code }) : '';
    switch (this.#screen) {
      case 'review':
        ui.title.textContent = t('review.title');
        ui.lead.textContent = t(`review.lead.${kind}`);
        break;
      case 'uploading':
        ui.title.textContent = t('uploading.title');
        break;
      case 'done':
        ui.title.textContent = t('done.title');
        ui.lead.textContent = t('done.lead');
        break;
      case 'fallback': {
        const code = this.#error ? this.#error.code : 'camera_unavailable';
        const specific = t(`error.${code}`);
        ui.title.textContent = t(`fallback.title.${kind}`);
        ui.lead.textContent = `${specific === `error.${code}` ? t('error.generic') : specific} ${t('fallback.lead')}`;
        ui['file-label'].textContent = t(`fallback.choose.${kind}`);
        ui.file.setAttribute('capture', kind === 'selfie' ? 'user' : 'environment');
        break;
      }
      case 'error': {
        const code = this.#error ? this.#error.code : 'internal';
        const specific = t(`error.${code}`);
        ui.title.textContent = t('error.title');
        ui.lead.textContent = specific === `error.${code}` ? t('error.generic') : specific;
        break;
      }
      default:
        ui.title.textContent = t(`step.${step}.title`);
        ui.lead.textContent = t(`step.${step}.lead`);
        break;
    }
  }

  #dispatch(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

/** Registers `<trustcap-capture>` (once; a second call does nothing). */
export function defineTrustCapCapture() {
  if (typeof customElements !== 'undefined' && !customElements.get(TAG_NAME)) {
    customElements.define(TAG_NAME, TrustCapCaptureElement);
  }
}

defineTrustCapCapture();
