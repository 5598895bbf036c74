// Browser harness for `cargo xtask bench quality`: in one headless Debian Chromium page, times
//
// - TrustCap's document-capture bundle (FrameAnalyzer("document").analyze: boundary, in-document
//   sharpness, glare, exposure, motion, guidance) and each of its stages (CheckBench, a bench-only
//   build of the SDK's wasm), and the whole-frame bundle (FrameAnalyzer("frame"));
// - OpenCV.js (npm @techstark/opencv-js, the usual way): RGBA→grey, variance of the Laplacian, a
//   thresholded glare mask, mean/std-dev exposure, and resize + Gaussian blur + Canny + findContours +
//   approxPolyDP for the document outline, with every Mat allocated once and reused;
//
// on the same 1280x720 frame. Prints one JSON line.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tests/e2e/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const opencvPath = require.resolve('@techstark/opencv-js/dist/opencv.js');

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
    if (url.pathname === '/opencv.js') {
      res.setHeader('content-type', 'text/javascript');
      return res.end(await readFile(opencvPath));
    }
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
    const [w, h, stride] = [1280, 720, 1280 * 4];
    const data = new Uint8Array(await (await fetch('/frame.rgba')).arrayBuffer());
    const round = (ms) => Math.round(ms * 1000) / 1000;
    // performance.now() is coarse in browsers (0.1 ms): time batches for the means, and single calls
    // only for the 95th percentile.
    const batchMean = (fn, n = 200) => {
      for (let i = 0; i < 20; i++) fn();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) fn();
      return round((performance.now() - t0) / n);
    };
    const p95 = (fn, n = 200) => {
      const times = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        fn();
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      return round(times[Math.floor(n * 0.95)]);
    };

    // TrustCap (wasm).
    const wasm = await import('/sdk/wasm/trustcap_wasm.js');
    await wasm.default({ module_or_path: '/sdk/wasm/trustcap_wasm_bg.wasm' });
    const documentAnalyzer = new wasm.FrameAnalyzer('document');
    const analyzeDocument = () => documentAnalyzer.analyze(data, w, h, stride);
    const found = analyzeDocument().document;
    const frameAnalyzer = new wasm.FrameAnalyzer('frame');
    const bench = new wasm.CheckBench();
    bench.luma(data, w, h, stride);
    bench.boundary();
    const ours = {
      document_ms_mean: batchMean(analyzeDocument),
      document_ms_p95: p95(analyzeDocument),
      frame_ms_mean: batchMean(() => frameAnalyzer.analyze(data, w, h, stride)),
      luma_downscale_ms_mean: batchMean(() => bench.luma(data, w, h, stride)),
      boundary_ms_mean: batchMean(() => bench.boundary()),
      sharpness_ms_mean: batchMean(() => bench.sharpness(data, w, h, stride)),
      glare_ms_mean: batchMean(() => bench.glare()),
      exposure_ms_mean: batchMean(() => bench.exposure()),
      quad_found: found !== null && found !== undefined,
    };

    // OpenCV.js, the usual way.
    await new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = '/opencv.js';
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
    let cv = window.cv;
    if (cv instanceof Promise) cv = await cv;
    else if (!cv.Mat) await new Promise((resolve) => (cv.onRuntimeInitialized = resolve));
    const src = new cv.Mat(h, w, cv.CV_8UC4);
    const gray = new cv.Mat();
    const lap = new cv.Mat();
    const mask = new cv.Mat();
    const small = new cv.Mat();
    const blurred = new cv.Mat();
    const edges = new cv.Mat();
    const hierarchy = new cv.Mat();
    const approx = new cv.Mat();
    const mean = new cv.Mat();
    const std = new cv.Mat();
    const smallSize = new cv.Size(640, 360);
    const kernel = new cv.Size(5, 5);
    const toGray = () => {
      src.data.set(data);
      cv.cvtColor(src, gray, cv.COLOR_RGBA2GRAY);
    };
    const laplacianVariance = () => {
      cv.Laplacian(gray, lap, cv.CV_64F);
      cv.meanStdDev(lap, mean, std);
      return std.data64F[0] * std.data64F[0];
    };
    const glareShare = () => {
      cv.threshold(gray, mask, 250, 255, cv.THRESH_BINARY);
      return cv.countNonZero(mask) / (w * h);
    };
    const exposure = () => {
      cv.meanStdDev(gray, mean, std);
      return mean.data64F[0];
    };
    const outline = () => {
      cv.resize(gray, small, smallSize, 0, 0, cv.INTER_AREA);
      cv.GaussianBlur(small, blurred, kernel, 0);
      cv.Canny(blurred, edges, 50, 150);
      const contours = new cv.MatVector();
      cv.findContours(edges, contours, hierarchy, cv.RETR_EXTERNAL, cv.CHAIN_APPROX_SIMPLE);
      let best = null;
      let bestArea = 0.02 * 640 * 360;
      for (let i = 0; i < contours.size(); i++) {
        const c = contours.get(i);
        const area = cv.contourArea(c);
        if (area > bestArea) {
          cv.approxPolyDP(c, approx, 0.02 * cv.arcLength(c, true), true);
          if (approx.rows === 4) {
            bestArea = area;
            best = Array.from(approx.data32S);
          }
        }
        c.delete();
      }
      contours.delete();
      return best;
    };
    const opencvBundle = () => {
      toGray();
      return { sharpness: laplacianVariance(), glare: glareShare(), mean: exposure(), quad: outline() };
    };
    const opencvQuad = opencvBundle().quad;
    toGray();
    const peer = {
      opencv_ms_mean: batchMean(opencvBundle),
      opencv_ms_p95: p95(opencvBundle),
      opencv_gray_ms_mean: batchMean(toGray),
      opencv_laplacian_ms_mean: batchMean(laplacianVariance),
      opencv_glare_ms_mean: batchMean(glareShare),
      opencv_exposure_ms_mean: batchMean(exposure),
      opencv_outline_ms_mean: batchMean(outline),
      opencv_quad_found: opencvQuad !== null,
      opencv_version: String(cv.getBuildInformation?.().match(/Version control:\s*(\S+)/)?.[1] ?? 'unknown'),
    };
    return { ...ours, ...peer, user_agent: navigator.userAgent };
  });
  console.log(`browser: ${result.user_agent}`);
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
  server.close();
}
