// Verifying TrustCap webhooks on the receiving server (Node 18+, Deno, Bun, workers):
// the `TrustCap-Signature` header is `t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
// t + "." + raw body)>`, with one `v1=` per valid secret while a secret is being rotated.
// Uses Web Crypto only, so it adds no dependency and never loads the wasm core.

/** Why a webhook signature was refused: `code` is `malformed`, `stale` or `mismatch`. */
export class WebhookSignatureError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'WebhookSignatureError';
    this.code = code;
  }
}

const MAX_HEADER_LENGTH = 1024;
const encoder = new TextEncoder();

function toBytes(body) {
  if (typeof body === 'string') return encoder.encode(body);
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError('body must be the raw request body: a string, Uint8Array or ArrayBuffer');
}

function hexToBytes(hex) {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i += 1) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function constantTimeEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * Verifies a webhook delivery. Pass the raw body exactly as received (before any JSON
 * parsing), the `TrustCap-Signature` header and your endpoint secret (`whsec_...`).
 * Resolves to the signed timestamp; rejects with a `WebhookSignatureError`.
 * Deduplicate deliveries by the `TrustCap-Event-Id` header (the event's `id`).
 */
export async function verifyWebhook(body, header, secret, { toleranceSeconds = 300, now = Date.now() / 1000 } = {}) {
  if (typeof header !== 'string' || header.length > MAX_HEADER_LENGTH) {
    throw new WebhookSignatureError('malformed', 'the signature header is missing or too long');
  }
  let timestamp = null;
  const candidates = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new WebhookSignatureError('malformed', 'the signature header is malformed');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== null || !/^-?\d{1,19}$/.test(value)) {
        throw new WebhookSignatureError('malformed', 'the signature timestamp is malformed');
      }
      timestamp = Number(value);
    } else if (key === 'v1') {
      const bytes = hexToBytes(value);
      if (!bytes) throw new WebhookSignatureError('malformed', 'a v1 signature is not hex');
      candidates.push(bytes);
    }
  }
  if (timestamp === null || candidates.length === 0) {
    throw new WebhookSignatureError('malformed', 'the signature header needs t= and v1=');
  }
  if (Math.abs(now - timestamp) > toleranceSeconds) {
    throw new WebhookSignatureError('stale', 'the signature timestamp is outside the tolerance');
  }
  const key = await globalThis.crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const raw = toBytes(body);
  const signed = new Uint8Array(encoder.encode(`${timestamp}.`).length + raw.length);
  signed.set(encoder.encode(`${timestamp}.`), 0);
  signed.set(raw, signed.length - raw.length);
  const expected = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', key, signed));
  let matched = false;
  for (const candidate of candidates) matched = constantTimeEqual(expected, candidate) || matched;
  if (!matched) throw new WebhookSignatureError('mismatch', 'no signature matches');
  return timestamp;
}
