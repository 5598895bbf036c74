// @trustcap/web: requests to the verifier's client API with retries, backoff and upload progress.
//
// A request that fails on the network, or that the verifier (or a proxy in front of it) answers with
// 408, 429 or a 5xx, is sent again — the identical body, so a sealed capture keeps its nonce and the
// verifier recognises the retry (it answers an identical, already stored upload with the original
// capture) — after an exponential backoff with jitter, or after `Retry-After` when the answer carries
// one. Any other 4xx is final. Aborting the signal stops a request in flight and any wait.

/** Attempts per request, backoff and its bounds (milliseconds). */
export const RETRY_DEFAULTS = Object.freeze({ attempts: 4, baseDelayMs: 500, maxDelayMs: 8000 });

// The longest `Retry-After` honoured; a longer one ends the retries.
const MAX_RETRY_AFTER_MS = 30_000;

/** An answer from the verifier: its status, JSON body (or null) and `Retry-After` in ms (or null). */
class Answer {
  constructor(status, data, retryAfterMs) {
    this.status = status;
    this.data = data;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The request did not get an answer (connection refused or reset, DNS, CORS, offline). */
class NetworkFailure extends Error {}

/** Whether an HTTP status is worth another attempt: 408, 429 and every 5xx. */
export function isRetryableStatus(status) {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * A `Retry-After` header value in milliseconds (delay-seconds or an HTTP date), or null.
 * @param {string | null} value
 * @param {number} [now]
 */
export function parseRetryAfter(value, now = Date.now()) {
  if (typeof value !== 'string' || !value.trim()) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

/**
 * The wait before attempt `attempt + 1` (after `attempt` failed, `attempt` ≥ 1): the base doubled per
 * failed attempt, capped, with up to +50 % jitter; at least `retryAfterMs` when given.
 * @param {number} attempt
 * @param {number | null} retryAfterMs
 * @param {{ baseDelayMs: number, maxDelayMs: number }} policy
 * @param {() => number} [random]
 */
export function backoffDelay(attempt, retryAfterMs, policy, random = Math.random) {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exp * (1 + 0.5 * random());
  return retryAfterMs === null ? jittered : Math.max(retryAfterMs, jittered);
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function parseJson(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

// One attempt with XMLHttpRequest (real upload progress), without cookies.
function sendXhr({ method, url, headers, body, signal, onProgress }) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.withCredentials = false;
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    const total = body ? body.byteLength ?? body.length ?? 0 : 0;
    if (onProgress && xhr.upload) {
      xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : total);
      // Some uploads finish without a final progress event: report the whole body once it is sent.
      xhr.upload.onload = () => onProgress(total, total);
    }
    const onAbort = () => xhr.abort();
    const done = () => signal?.removeEventListener('abort', onAbort);
    xhr.onload = () => {
      done();
      resolve(new Answer(xhr.status, parseJson(xhr.responseText), parseRetryAfter(xhr.getResponseHeader('Retry-After'))));
    };
    xhr.onerror = () => {
      done();
      reject(new NetworkFailure('the connection failed'));
    };
    xhr.ontimeout = xhr.onerror;
    xhr.onabort = () => {
      done();
      reject(signal?.reason ?? new DOMException('aborted', 'AbortError'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) {
      xhr.abort();
      return;
    }
    xhr.send(body ?? null);
  });
}

// One attempt with fetch (where there is no XMLHttpRequest, e.g. a worker): progress at start and end.
async function sendFetch({ method, url, headers, body, signal, onProgress }) {
  const total = body ? body.byteLength ?? body.length ?? 0 : 0;
  onProgress?.(0, total);
  let response;
  try {
    response = await fetch(url, { method, headers, body, signal, credentials: 'omit' });
  } catch (err) {
    if (signal?.aborted) throw signal.reason ?? err;
    throw new NetworkFailure(String(err));
  }
  onProgress?.(total, total);
  const text = await response.text().catch(() => '');
  return new Answer(response.status, parseJson(text), parseRetryAfter(response.headers.get('Retry-After')));
}

/**
 * The outcome of {@link requestWithRetry}: `{ ok: true, status, data }`, or `{ ok: false, status, data,
 * network }` after the last attempt (`network`: no answer at all; `status` 0 then).
 *
 * @param {object} req
 * @param {string} req.method
 * @param {string} req.url
 * @param {Record<string, string>} req.headers
 * @param {Uint8Array | string} [req.body] sent unchanged by every attempt
 * @param {AbortSignal} [req.signal]
 * @param {{ attempts?: number, baseDelayMs?: number, maxDelayMs?: number }} [req.policy]
 * @param {(attempt: number) => void} [req.onAttempt] called as each attempt starts (1, 2, …)
 * @param {(loaded: number, total: number, attempt: number) => void} [req.onProgress] bytes sent
 * @param {() => number} [req.random] jitter source (tests)
 */
export async function requestWithRetry({ method, url, headers, body, signal, policy, onAttempt, onProgress, random }) {
  const p = { ...RETRY_DEFAULTS, ...(policy || {}) };
  const send = typeof XMLHttpRequest === 'function' ? sendXhr : sendFetch;
  let last = null;
  for (let attempt = 1; attempt <= p.attempts; attempt += 1) {
    onAttempt?.(attempt);
    const progress = onProgress ? (loaded, total) => onProgress(loaded, total, attempt) : undefined;
    let retryAfterMs = null;
    try {
      const answer = await send({ method, url, headers, body, signal, onProgress: progress });
      if (answer.status >= 200 && answer.status <= 299) return { ok: true, status: answer.status, data: answer.data };
      last = { ok: false, status: answer.status, data: answer.data, network: false };
      if (!isRetryableStatus(answer.status)) return last;
      retryAfterMs = answer.retryAfterMs;
      if (retryAfterMs !== null && retryAfterMs > MAX_RETRY_AFTER_MS) return last;
    } catch (err) {
      if (!(err instanceof NetworkFailure)) throw err; // aborted
      last = { ok: false, status: 0, data: null, network: true, detail: err.message };
    }
    if (attempt < p.attempts) await sleep(backoffDelay(attempt, retryAfterMs, p, random), signal);
  }
  return last;
}
