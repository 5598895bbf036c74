// Uses every export of @trustcap/web as a TypeScript integrator would; `types.test.mjs` checks it
// with `tsc --noEmit --strict` against the packed package. Lines marked `@ts-expect-error` must stay
// errors: they prove the types reject misuse (an event name's wrong detail, a wrong step, ...).
import {
  BURST_FRAMES,
  BURST_INTERVAL_MS,
  CAMERA_ERROR_CODES,
  CAPTURE_CONTENT_TYPE,
  Capture,
  DOCUMENT_ORIGINAL_PART,
  FACE_MODELS,
  RETRY_DEFAULTS,
  STEPS,
  TrustCapError,
  VERSION,
  WebhookSignatureError,
  createCapture,
  createFileInput,
  faceSimdSupported,
  getAssetsUrl,
  loadFaceModule,
  prefetchFaceModule,
  preload,
  setAssetsUrl,
  verifyWebhook,
} from '@trustcap/web';
import type {
  CaptureEventMap,
  CaptureOptions,
  CaptureState,
  CapturedDetail,
  DetectedDocument,
  DetectedFace,
  ErrorDetail,
  FaceDetector,
  FaceModelVariant,
  FaceModule,
  GuidanceDetail,
  LivenessAnalyzer,
  LivenessReport,
  Step,
  UploadedDetail,
  VerifyWebhookOptions,
} from '@trustcap/web';
import * as face from '@trustcap/web/face';
import { verifyWebhook as verifyWebhookOnly } from '@trustcap/web/webhook';
import * as sdk from '@trustcap/web';

/**
 * Every value the package's main entry exports, and nothing else: the object must have exactly the
 * keys of the module's type (a missing key and an extra key are both errors). `types.test.mjs`
 * compares these names with what `index.js` really exports.
 */
export const VALUE_EXPORTS: { [K in keyof typeof sdk]: true } = {
  BURST_FRAMES: true,
  BURST_INTERVAL_MS: true,
  CAMERA_ERROR_CODES: true,
  CAPTURE_CONTENT_TYPE: true,
  Capture: true,
  DOCUMENT_ORIGINAL_PART: true,
  FACE_MODELS: true,
  RETRY_DEFAULTS: true,
  STEPS: true,
  TrustCapError: true,
  VERSION: true,
  WebhookSignatureError: true,
  createCapture: true,
  createFileInput: true,
  faceSimdSupported: true,
  getAssetsUrl: true,
  loadFaceModule: true,
  prefetchFaceModule: true,
  preload: true,
  setAssetsUrl: true,
  verifyWebhook: true,
};

const preloaded: Promise<boolean> = preload();
const version: string = VERSION;
const contentType: string = CAPTURE_CONTENT_TYPE;
const steps: readonly Step[] = STEPS;
const burst: number = BURST_FRAMES * BURST_INTERVAL_MS;
const modelPath: string = FACE_MODELS.front128;
const originalPart: string = DOCUMENT_ORIGINAL_PART;
const attempts: number = RETRY_DEFAULTS.attempts;
const cameraCodes: readonly string[] = CAMERA_ERROR_CODES;

/** The file-input fallback: a photo through the same checks when the camera cannot be used. */
export async function fileFallback(capture: Capture, container: HTMLElement): Promise<void> {
  const input: HTMLInputElement = createFileInput({ step: 'document_front' });
  container.append(input);
  const file = input.files?.[0];
  if (file) await capture.submitFile(file);
}

export async function documentFlow(video: HTMLVideoElement, canvas: HTMLCanvasElement): Promise<string> {
  setAssetsUrl('https://cdn.example.com/trustcap/0.1.0/');
  setAssetsUrl(new URL('https://cdn.example.com/trustcap/'));
  setAssetsUrl(null);
  const base: string | null = getAssetsUrl();

  const options: CaptureOptions = {
    verifierUrl: 'https://verify.example.com',
    token: 'ct_example',
    step: 'document_front',
    video,
    canvas,
    constraints: { deviceId: 'camera' },
    autoCaptureFrames: 30,
    documentFormat: 'id1',
  };
  const capture: Capture = await createCapture(options);
  const state: CaptureState = capture.state;
  const step: Step = capture.step;

  capture.addEventListener('guidance', (e) => {
    const detail: GuidanceDetail = e.detail;
    const doc: DetectedDocument | null = detail.document;
    const corners: number[] = doc ? doc.corners : [];
    const format: 'id1' | 'id3' | undefined = doc?.format;
    const sharpness: number | undefined = detail.metrics['sharpness'];
    const reasons: string[] = detail.reasons;
    const progress = detail.burst ? `${detail.burst.frames}/${detail.burst.total}` : '';
    const yaw: number | undefined = detail.face?.yaw;
    return [detail.code, detail.message, detail.steadyCount, detail.acceptable, detail.framesAnalyzed, corners, format, sharpness, reasons, progress, yaw];
  });
  capture.addEventListener('captured', (e: CustomEvent<CapturedDetail>) => {
    const image: Blob = e.detail.image;
    const liveness = e.detail.liveness;
    return [image.size, e.detail.width, e.detail.height, e.detail.bytes, e.detail.rectified, liveness?.score, liveness?.passed, liveness?.decisive];
  });
  capture.addEventListener('uploading', (e) => e.detail);
  capture.addEventListener('uploaded', (e) => {
    const detail: UploadedDetail = e.detail;
    return [detail.captureId, detail.status];
  });
  capture.addEventListener('error', (e) => {
    const detail: ErrorDetail = e.detail;
    const status: number | undefined = detail.status;
    return [detail.code, detail.message, status];
  });
  // Any other event name still type-checks as a plain listener.
  capture.addEventListener('custom', (e: Event) => e.type);
  const listener = (e: CaptureEventMap['guidance']) => e.detail.code;
  capture.addEventListener('guidance', listener);
  capture.removeEventListener('guidance', listener);

  // @ts-expect-error: the guidance event's detail is not an UploadedDetail.
  capture.addEventListener('guidance', (e: CustomEvent<UploadedDetail>) => e.detail.captureId);
  // @ts-expect-error: not a capture step.
  await createCapture({ verifierUrl: 'https://verify.example.com', token: 't', step: 'passport' });
  // @ts-expect-error: the token is required.
  await createCapture({ verifierUrl: 'https://verify.example.com' });
  // @ts-expect-error: not a document format.
  await createCapture({ verifierUrl: 'https://verify.example.com', token: 't', documentFormat: 'a4' });
  // @ts-expect-error: a Capture is made with createCapture.
  new Capture();

  try {
    await capture.start();
  } catch (err) {
    if (err instanceof TrustCapError) {
      const code: string = err.code;
      const status: number | undefined = err.status;
      return `${code} ${status ?? ''} ${err.message}`;
    }
    throw err;
  } finally {
    capture.captureNow();
    capture.stop();
  }
  return [version, contentType, steps.join(), burst, modelPath, base, state, step].join();
}

export async function selfieFlow(frame: ImageData, cameraLabel: string): Promise<boolean> {
  if (!faceSimdSupported()) return false;
  await prefetchFaceModule();
  await prefetchFaceModule({ models: ['front128', 'back256'] });
  const module: FaceModule = await loadFaceModule();
  const simd: boolean = module.simd;
  const variant: FaceModelVariant = 'back256';
  const detector: FaceDetector = await module.createDetector(variant, { minScore: 0.6 });
  await module.createDetector('front128', { model: new Uint8Array(16) });
  await module.createDetector(undefined, { modelUrl: '/models/custom.onnx' });
  detector.minScore = 0.7;
  const faces: DetectedFace[] = detector.detect(frame);
  const raw = detector.detect({ data: new Uint8Array(16), width: 2, height: 2, stride: 8 });
  const analyzer: LivenessAnalyzer = module.createLivenessAnalyzer({ threshold: 0.5, minFrames: 8, cameraLabel });
  for (const f of faces) analyzer.push(frame, f.box, performance.now());
  const report: LivenessReport = analyzer.report();
  const json: string = analyzer.reportJson();
  const signals = report.signals.map((s) => `${s.name}:${s.attack}:${s.judged}:${s.explanation}`);
  analyzer.free();
  detector.free();
  // @ts-expect-error: not a model variant.
  await module.createDetector('front256');
  // The face entry point exports the same loader.
  const same: typeof loadFaceModule = face.loadFaceModule;
  return report.passed && simd && raw.length >= 0 && json.length > 0 && signals.length >= 0 && same === loadFaceModule;
}

export async function webhook(body: string, header: string): Promise<number> {
  const options: VerifyWebhookOptions = { toleranceSeconds: 300, now: Date.now() / 1000 };
  try {
    const fromMain: number = await verifyWebhook(body, header, 'whsec_example', options);
    const fromEntry: number = await verifyWebhookOnly(new TextEncoder().encode(body), header, 'whsec_example');
    return fromMain + fromEntry;
  } catch (err) {
    if (err instanceof WebhookSignatureError) {
      const code: 'malformed' | 'stale' | 'mismatch' = err.code;
      return code.length;
    }
    throw err;
  }
}
