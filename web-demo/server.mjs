// The demo's own backend: what a customer would run next to their page.
//
// It holds the TrustCap API key (never sent to the browser), creates verification sessions
// at the verifier, hands the page only the short-lived client token, and reports the
// session's outcome. It also serves the demo page and the built @trustcap/web package.
// Node 20, no dependencies.
//
// Environment:
//   PORT                   port to listen on (0 = any free port); default 8000
//   TRUSTCAP_VERIFIER_URL  verifier base URL, e.g. http://127.0.0.1:8080
//   TRUSTCAP_API_KEY       the customer's API key
//   TRUSTCAP_SDK_DIR       absolute path of the built npm package (served at /sdk/)

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const HOST = '127.0.0.1';
const PORT = Number.parseInt(process.env.PORT ?? '8000', 10);
const VERIFIER_URL = (process.env.TRUSTCAP_VERIFIER_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const API_KEY = process.env.TRUSTCAP_API_KEY || '';
const SDK_DIR = process.env.TRUSTCAP_SDK_DIR || '';
const DEMO_DIR = fileURLToPath(new URL('.', import.meta.url));
const DEMO_FILES = new Set(['index.html', 'demo.js', 'style.css']);
// The steps a demo session may have, in capture order; the page picks a subset (default: all).
const STEPS = ['document_front', 'selfie'];
const MAX_BODY_BYTES = 1024;

if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65535) fatal(`PORT must be a port number, got ${process.env.PORT}`);
if (!API_KEY) fatal('TRUSTCAP_API_KEY is required');
if (!SDK_DIR || !isAbsolute(SDK_DIR)) fatal('TRUSTCAP_SDK_DIR must be the absolute path of the built SDK package');

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

function fatal(message) {
  console.error(`demo: ${message}`);
  process.exit(2);
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

function send(res, status, body, type = 'text/plain; charset=utf-8', extra = {}) {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...SECURITY_HEADERS, ...extra });
  res.end(body);
}

function sendJson(res, status, value) {
  send(res, status, JSON.stringify(value), 'application/json; charset=utf-8');
}

function sendError(res, status, code, message) {
  sendJson(res, status, { error: { code, message } });
}

/** Serves `relPath` from `root`, refusing anything that resolves outside it. */
async function serveFile(res, root, relPath, method) {
  let decoded;
  try {
    decoded = decodeURIComponent(relPath);
  } catch {
    return sendError(res, 400, 'bad_path', 'malformed path');
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return sendError(res, 400, 'bad_path', 'malformed path');
  const base = resolve(root);
  const full = resolve(join(base, decoded));
  if (full !== base && !full.startsWith(base + sep)) return sendError(res, 404, 'not_found', 'not found');
  let info;
  try {
    info = await stat(full);
  } catch {
    return sendError(res, 404, 'not_found', 'not found');
  }
  if (!info.isFile()) return sendError(res, 404, 'not_found', 'not found');
  const type = CONTENT_TYPES[extname(full).toLowerCase()] || 'application/octet-stream';
  const body = await readFile(full);
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'no-cache', ...SECURITY_HEADERS });
  res.end(method === 'HEAD' ? undefined : body);
}

/** Calls the verifier's customer API with the API key. */
async function verifier(method, path, body) {
  const response = await fetch(`${VERIFIER_URL}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${API_KEY}`,
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  return { status: response.status, ok: response.ok, data };
}

/** Relays a verifier refusal without leaking anything but its code and message. */
function relayFailure(res, result) {
  const e = result.data && result.data.error;
  const status = result.status >= 400 && result.status < 500 ? result.status : 502;
  sendError(res, status, (e && e.code) || `verifier_${result.status}`, (e && e.message) || 'the verifier refused the request');
}

/** Reads a small JSON body (`{}` when empty); null when it is too large or not JSON. */
async function readJson(req) {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > MAX_BODY_BYTES) return null;
  }
  if (!text.trim()) return {};
  try {
    const value = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/** The steps the page asked for, kept in capture order; every demo step when it asked for none. */
function sessionSteps(body) {
  if (body.steps === undefined) return STEPS;
  if (!Array.isArray(body.steps) || body.steps.length === 0) return null;
  if (!body.steps.every((s) => STEPS.includes(s))) return null;
  return STEPS.filter((s) => body.steps.includes(s));
}

async function createSession(req, res) {
  const body = await readJson(req);
  const steps = body && sessionSteps(body);
  if (!steps) return sendError(res, 400, 'invalid_request', `steps must be a non-empty subset of ${STEPS.join(', ')}`);
  const result = await verifier('POST', '/v1/sessions', { steps });
  if (!result.ok || !result.data) return relayFailure(res, result);
  const { session_id, client_token } = result.data;
  sendJson(res, 201, { session_id, client_token, steps, verifier_url: VERIFIER_URL });
}

async function sessionStatus(res, id) {
  const result = await verifier('GET', `/v1/sessions/${encodeURIComponent(id)}`);
  if (!result.ok || !result.data) return relayFailure(res, result);
  const captures = Array.isArray(result.data.captures) ? result.data.captures : [];
  // The page sees the outcome only: the decision's state and the checks' outcomes and reason codes.
  const decision = result.data.decision;
  const checks = Array.isArray(result.data.checks) ? result.data.checks : [];
  const codes = (reasons) =>
    Array.isArray(reasons) ? reasons.map((r) => (typeof r === 'string' ? r : r && r.code)).filter(Boolean) : [];
  sendJson(res, 200, {
    status: result.data.status,
    captures: captures.map((c) => ({ step: c.step, signature_verified: c.signature_verified === true })),
    decision: decision ? { state: decision.state, reasons: codes(decision.reasons) } : null,
    checks: checks.map((c) => ({ name: c.name, outcome: c.outcome, reasons: codes(c.reasons) })),
  });
}

async function handle(req, res) {
  const url = new URL(req.url || '/', 'http://localhost');
  const path = url.pathname;
  const method = req.method || 'GET';

  if (path === '/api/session') {
    if (method !== 'POST') return sendError(res, 405, 'method_not_allowed', 'use POST');
    return createSession(req, res);
  }
  const status = /^\/api\/sessions\/([A-Za-z0-9_-]{1,64})$/.exec(path);
  if (status) {
    if (method !== 'GET') return sendError(res, 405, 'method_not_allowed', 'use GET');
    return sessionStatus(res, status[1]);
  }
  if (path.startsWith('/api/')) return sendError(res, 404, 'not_found', 'not found');

  if (method !== 'GET' && method !== 'HEAD') return sendError(res, 405, 'method_not_allowed', 'use GET');
  if (path.startsWith('/sdk/')) return serveFile(res, SDK_DIR, path.slice('/sdk/'.length), method);
  const name = path === '/' ? 'index.html' : path.slice(1);
  if (DEMO_FILES.has(name)) return serveFile(res, DEMO_DIR, name, method);
  return sendError(res, 404, 'not_found', 'not found');
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error(`demo: ${req.method} ${req.url}: ${err && err.stack ? err.stack : err}`);
    if (!res.headersSent) sendError(res, 502, 'verifier_unreachable', 'the verifier could not be reached');
    else res.destroy();
  });
});

server.listen(PORT, HOST, () => {
  const { port } = server.address();
  console.log(`demo listening on http://${HOST}:${port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
