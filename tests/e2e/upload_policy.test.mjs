// The SDK's retry policy (pkg-template/upload.js) in Node against a local HTTP server: which answers
// are retried, backoff with jitter and `Retry-After`, the identical body on every attempt, and
// aborting a wait. (In Node there is no XMLHttpRequest: the fetch path runs; the browser path with
// real progress runs in upload_retry.test.mjs.) Run by `cargo xtask test`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

let upload;
let server;
let url;
// What the server answers next (a queue of [status, headers] or 'reset'), and what it received.
let script = [];
let received = [];

before(async () => {
  const sdk = process.env.TRUSTCAP_SDK_DIR;
  if (!sdk) throw new Error('TRUSTCAP_SDK_DIR is not set: run the suite through `cargo xtask test`');
  upload = await import(pathToFileURL(join(sdk, 'upload.js')).href);
  server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ at: Date.now(), body: Buffer.concat(chunks) });
      const next = script.shift() ?? [200, {}];
      if (next === 'reset') {
        req.socket.destroy();
        return;
      }
      const [status, headers] = next;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(status < 300 ? { ok: true } : { error: { code: `code_${status}`, message: 'no' } }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${server.address().port}/v1/client/captures`;
});

after(() => server?.close());

function run(options = {}) {
  received = [];
  const attempts = [];
  const promise = upload.requestWithRetry({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/octet-stream' },
    body: new Uint8Array([1, 2, 3, 4, 5]),
    policy: { baseDelayMs: 20, maxDelayMs: 200 },
    random: () => 0,
    onAttempt: (n) => attempts.push(n),
    ...options,
  });
  return { promise, attempts };
}

test('backoff doubles per attempt up to the cap, with at most 50 % jitter, and honours Retry-After', () => {
  const policy = { baseDelayMs: 500, maxDelayMs: 8000 };
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => upload.backoffDelay(a, null, policy, () => 0)), [500, 1000, 2000, 4000, 8000, 8000]);
  assert.equal(upload.backoffDelay(1, null, policy, () => 1), 750);
  assert.equal(upload.backoffDelay(1, 3000, policy, () => 0.5), 3000);
  assert.equal(upload.backoffDelay(3, 100, policy, () => 0), 2000);
  assert.equal(upload.parseRetryAfter('2'), 2000);
  assert.equal(upload.parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4000), 6000);
  assert.equal(upload.parseRetryAfter('soon'), null);
  assert.equal(upload.parseRetryAfter(null), null);
  for (const s of [408, 429, 500, 502, 503, 504]) assert.ok(upload.isRetryableStatus(s), String(s));
  for (const s of [200, 400, 401, 403, 404, 409, 413, 415, 422]) assert.ok(!upload.isRetryableStatus(s), String(s));
  assert.deepEqual({ ...upload.RETRY_DEFAULTS }, { attempts: 4, baseDelayMs: 500, maxDelayMs: 8000 });
});

test('network errors, 408, 429 and 5xx are retried with the identical body until one succeeds', async () => {
  script = ['reset', [503, {}], [429, {}], [201, {}]];
  const { promise, attempts } = run();
  const result = await promise;
  assert.deepEqual(result, { ok: true, status: 201, data: { ok: true } });
  assert.deepEqual(attempts, [1, 2, 3, 4]);
  assert.equal(received.length, 4);
  assert.ok(received.every((r) => r.body.equals(Buffer.from([1, 2, 3, 4, 5]))));
  // 20, 40, 80 ms apart (no jitter with random() = 0).
  const gaps = received.slice(1).map((r, i) => r.at - received[i].at);
  assert.ok(gaps[0] >= 15 && gaps[1] >= 35 && gaps[2] >= 75, `gaps ${gaps}`);
});

test('another 4xx is final at once', async () => {
  script = [[409, {}]];
  const { promise, attempts } = run();
  const result = await promise;
  assert.equal(result.ok, false);
  assert.equal(result.status, 409);
  assert.equal(result.data.error.code, 'code_409');
  assert.deepEqual(attempts, [1]);
});

test('after the last attempt: the last status, or a network failure', async () => {
  script = [[500, {}], [502, {}], [503, {}], [504, {}]];
  let result = await run().promise;
  assert.deepEqual([result.ok, result.status, result.network], [false, 504, false]);
  script = ['reset', 'reset', 'reset', 'reset'];
  result = await run().promise;
  assert.deepEqual([result.ok, result.status, result.network], [false, 0, true]);
  assert.equal(received.length, 4);
});

test('Retry-After is waited out; one beyond 30 s ends the retries', async () => {
  script = [[503, { 'retry-after': '1' }], [200, {}]];
  const { promise } = run();
  assert.equal((await promise).status, 200);
  assert.ok(received[1].at - received[0].at >= 950, `waited ${received[1].at - received[0].at} ms`);
  script = [[429, { 'retry-after': '120' }]];
  const result = await run().promise;
  assert.deepEqual([result.ok, result.status], [false, 429]);
  assert.equal(received.length, 1);
});

test('aborting stops the wait between attempts', async () => {
  script = [[503, { 'retry-after': '20' }]];
  const controller = new AbortController();
  const { promise } = run({ signal: controller.signal, policy: { baseDelayMs: 20_000, maxDelayMs: 20_000 } });
  setTimeout(() => controller.abort(), 200);
  const started = Date.now();
  await assert.rejects(promise, (err) => err.name === 'AbortError');
  assert.ok(Date.now() - started < 5000);
  assert.equal(received.length, 1);
});
