// Browser harness for `cargo xtask bench quality`: times the quality bundle
// (FrameAnalyzer.analyze) and each of its stages (CheckBench, a bench-only build of the
// SDK's wasm) on a 1280x720 frame inside headless Debian Chromium. Prints one JSON line.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tests/e2e/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const sdkDir = process.env.TRUSTCAP_SDK_DIR;
const framePath = process.env.TRUSTCAP_BENCH_FRAME;
if (!sdkDir || !framePath) throw new Error('TRUSTCAP_SDK_DIR and TRUSTCAP_BENCH_FRAME are required');

const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
const page = `<!doctype html><meta charset="utf-8"><title>TrustCap quality bench</title>`;
const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  try {
    if (url.pathname === '/') return res.end(page);
    if (url.pathname === '/frame.rgba') return res.end(await readFile(framePath));
    if (url.pathname.startsWith('/sdk/')) {
      const rel = normalize(url.pathname.slice(5)).replace(/^(\.\.[/\\])+/, '');
      const ext = rel.slice(rel.lastIndexOf('.'));
      res.setHeader('content-type', types[ext] ?? 'application/octet-stream');
      return res.end(await readFile(join(sdkDir, rel)));
    }
  } catch { /* fall through */ }
  res.statusCode = 404;
  res.end();
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  const tab = await browser.newPage();
  await tab.goto(base + '/');
  const result = await tab.evaluate(async () => {
    const wasm = await import('/sdk/wasm/trustcap_wasm.js');
    await wasm.default({ module_or_path: '/sdk/wasm/trustcap_wasm_bg.wasm' });
    const data = new Uint8Array(await (await fetch('/frame.rgba')).arrayBuffer());
    const [w, h, stride] = [1280, 720, 1280 * 4];
    const round = (ms) => Math.round(ms * 1000) / 1000;
    // performance.now() is coarse in browsers (0.1 ms): time batches for the means, and
    // single calls only for the 95th percentile.
    const batchMean = (fn, n = 300) => {
      for (let i = 0; i < 30; i++) fn();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) fn();
      return round((performance.now() - t0) / n);
    };
    const analyzer = new wasm.FrameAnalyzer();
    const analyze = () => analyzer.analyze(data, w, h, stride);
    const times = [];
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      analyze();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const bench = new wasm.CheckBench();
    bench.luma(data, w, h, stride);
    return {
      iterations: times.length,
      analyze_ms_mean: batchMean(analyze),
      analyze_ms_p95: round(times[Math.floor(times.length * 0.95)]),
      luma_downscale_ms_mean: batchMean(() => bench.luma(data, w, h, stride)),
      sharpness_ms_mean: batchMean(() => bench.sharpness()),
      glare_ms_mean: batchMean(() => bench.glare()),
      exposure_ms_mean: batchMean(() => bench.exposure()),
      user_agent: navigator.userAgent,
    };
  });
  console.log(`browser: ${result.user_agent}`);
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
  server.close();
}
