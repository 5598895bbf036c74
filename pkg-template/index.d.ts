// Type definitions for @trustcap/web.

/** The package version. */
export declare const VERSION: string;

/** The HTTP content type of a capture upload: `application/vnd.trustcap.capture.v1`. */
export declare const CAPTURE_CONTENT_TYPE: string;

/** The part name of a document step's original camera photo (`document_original`), uploaded after the rectified document. */
export declare const DOCUMENT_ORIGINAL_PART: string;

/**
 * The upload's retry policy: `attempts` (4) per request, backoff from `baseDelayMs` (500) doubling
 * per failed attempt up to `maxDelayMs` (8000), plus up to 50 % jitter, or longer when the answer
 * carries `Retry-After` (at most 30 s; a longer one ends the retries).
 */
export declare const RETRY_DEFAULTS: Readonly<{ attempts: number; baseDelayMs: number; maxDelayMs: number }>;

/** A capture step of a verification session. */
export type Step = 'document_front' | 'document_back' | 'selfie' | 'proof_of_address';

/** The capture steps, in capture order. */
export declare const STEPS: readonly Step[];

/** Frames of a selfie's liveness burst (8, the protocol's maximum). */
export declare const BURST_FRAMES: number;

/** Interval between burst frames in milliseconds (150: the burst spans about 1.05 s). */
export declare const BURST_INTERVAL_MS: number;

/**
 * A guidance code from the on-device analysis, e.g. `"too_blurry"`, `"more_light"`,
 * `"reduce_glare"`, `"hold_still"` or `"ready"`. The selfie step adds `no_face`,
 * `multiple_faces`, `center_face`, `too_close`, `too_far`, `turn_left`, `turn_right`,
 * `look_up`, `look_down`, `tilt_left`, `tilt_right`, `low_contrast` and `too_bright`; during
 * its liveness burst the code is `hold_still` with `burst` set. New codes may be added; show
 * `message` for codes you do not handle.
 */
export type GuidanceCode = string;

/**
 * A stable error code. Server refusals use the verifier's codes (`token_expired`,
 * `nonce_replayed`, `key_already_registered`, ...) or `http_<status>`; local failures use
 * a {@link CameraErrorCode} (with `fileFallback: true`), `torch_unavailable`, `invalid_image`,
 * `network_error` (no attempt of the retried upload reached the verifier), `upload_failed` (with
 * `status`: the last answer was still a 408, 429 or 5xx), `wasm_load_failed`, `step_not_allowed`, `key_mismatch`, `random_unavailable`,
 * `frame_error`, `invalid_options`, `invalid_state`, `unsupported`, `internal`, or
 * a protocol code from sealing (`manifest_invalid`, ...).
 */
export type ErrorCode = string;

/**
 * Camera failures, each with `fileFallback: true` (offer a photo from a file input instead):
 * `camera_denied` (permission refused), `no_camera` (none, or none meets the constraints even after
 * loosening them), `camera_busy` (in use by another app), `insecure_context` (not https, or no
 * `navigator.mediaDevices`, as in many webviews), `camera_lost` (unplugged or ended, and reopening
 * failed), `camera_unavailable` (anything else).
 */
export type CameraErrorCode =
  | 'camera_denied'
  | 'no_camera'
  | 'camera_busy'
  | 'insecure_context'
  | 'camera_unavailable'
  | 'camera_lost';

/** Every {@link CameraErrorCode}. */
export declare const CAMERA_ERROR_CODES: readonly CameraErrorCode[];

/** Quality metrics of a frame by name: `sharpness`, `glare`, `exposure.mean`, ... */
export type Metrics = Record<string, number>;

/** The document outline found in a frame (document steps). */
export interface DetectedDocument {
  /** Corners in frame pixels: `[x0, y0, x1, y1, x2, y2, x3, y3]`, top-left, top-right, bottom-right, bottom-left. */
  corners: number[];
  /** Detection confidence, 0 to 1. */
  confidence: number;
  /** `id1` (ID card) or `id3` (passport page): the format the document is rectified to. */
  format: 'id1' | 'id3';
  /** The document stands upright in the frame. */
  portrait: boolean;
  /** Share of the frame the document covers, 0 to 1. */
  fill: number;
  /** Perspective tilt (opposite-side length ratio − 1). */
  tilt: number;
}

/** The main face of a selfie frame (selfie step). */
export interface GuidanceFace {
  /** Detector score, 0 to 1. */
  score: number;
  /** The face box in frame pixels (unmirrored camera image). */
  box: { x: number; y: number; width: number; height: number };
  /** Head pose in approximate degrees, from the subject's point of view: yaw > 0 turned to their left, pitch > 0 chin up, roll > 0 leaning to their left shoulder. */
  yaw: number;
  pitch: number;
  roll: number;
}

/** Progress of the selfie's liveness burst. */
export interface BurstProgress {
  /** Frames taken so far. */
  frames: number;
  /** Frames the burst takes ({@link BURST_FRAMES}). */
  total: number;
}

/** The client's passive-liveness verdict on the burst (the verifier recomputes its own from the frames). */
export interface ClientLiveness {
  /** `1 - max(attack)` over the judged signals, 0 to 1. */
  score: number;
  passed: boolean;
  /** The signal that decided, if any showed an attack (`planar_motion`, `injection`, ...). */
  decisive: string | null;
  frames: number;
}

/** `detail` of the `guidance` event, emitted for every analysed frame. */
export interface GuidanceDetail {
  /** What the user should do now (`"ready"` when the frame is good). */
  code: GuidanceCode;
  /** The English message for `code`. */
  message: string;
  /** Every failing check of this frame, most important first (`code` is the first, or `ready`). */
  reasons: GuidanceCode[];
  /** The detected document outline, or `null` (none found, or a selfie step). */
  document: DetectedDocument | null;
  /** Selfie step: the main face, or `null` (none found). Absent in document steps. */
  face?: GuidanceFace | null;
  /** Selfie step: faces that count in the frame. */
  faces?: number;
  /** Selfie step: the liveness burst's progress while it runs, else `null`. */
  burst?: BurstProgress | null;
  /** The frame's quality metrics. */
  metrics: Metrics;
  /** How many consecutive good frames have been seen. */
  steadyCount: number;
  /** Whether this frame alone would be acceptable. */
  acceptable: boolean;
  /** Frames analysed so far (1 for a photo given to `submitFile`). */
  framesAnalyzed: number;
  /** `'file'` when the guidance is about a photo given to `submitFile`. */
  source?: 'file';
}

/** `detail` of the `captured` event: the image that is about to be uploaded. */
export interface CapturedDetail {
  width: number;
  height: number;
  /** Size of the JPEG in bytes. */
  bytes: number;
  /** The JPEG itself, e.g. to show the applicant what was captured (`URL.createObjectURL`). */
  image: Blob;
  /** True when the image is the document rectified to its format's fixed size (1012×638 for ID-1, 1200×845 for ID-3). */
  rectified: boolean;
  /** Selfie step: the client's liveness verdict on the burst (`image` is its sharpest frame; `bytes` counts every frame). */
  liveness?: ClientLiveness;
}

/**
 * `detail` of the `uploading` event, emitted as each attempt of the capture upload starts (`loaded` 0)
 * and as its bytes go out. `attempt` is 1 for the first try, 2… for retries after a network error or
 * a 408, 429 or 5xx answer (each retry sends the identical sealed envelope).
 */
export interface UploadingDetail {
  /** Bytes of the envelope sent so far in this attempt. */
  loaded: number;
  /** Size of the envelope in bytes. */
  total: number;
  /** The attempt, from 1 to {@link RETRY_DEFAULTS}`.attempts`. */
  attempt: number;
}

/** `detail` of the `quality` event, emitted for every analysed frame (after its `guidance`). */
export interface QualityDetail {
  /** The frame's quality metrics. */
  metrics: Metrics;
  /** Whether this frame alone would be acceptable. */
  acceptable: boolean;
  /** How many consecutive good frames have been seen. */
  steadyCount: number;
  /** Frames analysed so far. */
  framesAnalyzed: number;
}

/** `detail` of the `uploaded` event. */
export interface UploadedDetail {
  /** The verifier's id for the capture. */
  captureId: string;
  /** The capture's status at the verifier. */
  status: string;
  /** True when a retried upload found the capture already stored (the verifier stores it once). */
  duplicate: boolean;
  /** Selfie step: the client's liveness verdict that was signed into the upload. */
  liveness?: ClientLiveness;
}

/** `detail` of the `done` event: the `uploaded` detail and the step that was uploaded. */
export interface DoneDetail extends UploadedDetail {
  step: Step;
}

/** `detail` of the `error` event. */
export interface ErrorDetail {
  code: ErrorCode;
  message: string;
  /** HTTP status of a server refusal; `undefined` for local failures. */
  status?: number;
  /** A camera failure: the capture is in state `fallback`, waiting for `submitFile`. */
  fileFallback?: boolean;
}

/** `detail` of the `paused` and `resumed` events. */
export interface PauseDetail {
  /** `hidden` (the page was hidden; the camera is released meanwhile), `visible` (shown again) or `camera_lost`. */
  reason: 'hidden' | 'visible' | 'camera_lost';
}

export interface CaptureEventMap {
  guidance: CustomEvent<GuidanceDetail>;
  quality: CustomEvent<QualityDetail>;
  captured: CustomEvent<CapturedDetail>;
  uploading: CustomEvent<UploadingDetail>;
  /** Kept for compatibility: always followed by `done` with the same detail. */
  uploaded: CustomEvent<UploadedDetail>;
  done: CustomEvent<DoneDetail>;
  error: CustomEvent<ErrorDetail>;
  paused: CustomEvent<PauseDetail>;
  resumed: CustomEvent<PauseDetail>;
}

/** A capture's state. `review` only with the `review` option, between `captured` and `uploading`. */
export type CaptureState =
  | 'idle'
  | 'starting'
  | 'capturing'
  | 'review'
  | 'fallback'
  | 'checking'
  | 'uploading'
  | 'uploaded'
  | 'error'
  | 'stopped';

/** What `submitFile` resolves with. */
export type SubmitFileResult =
  | { accepted: true; captureId: string; status: string }
  | { accepted: false; guidance: GuidanceDetail };

/** An error with a stable machine-readable code. */
export declare class TrustCapError extends Error {
  constructor(code: ErrorCode, message: string, status?: number, extra?: { fileFallback?: boolean });
  readonly code: ErrorCode;
  /** HTTP status of a server refusal. */
  readonly status?: number;
  /** True for camera failures: offer `<input type="file" accept="image/*" capture>` and `submitFile`. */
  readonly fileFallback: boolean;
}

/**
 * One capture of one step at a time: camera, live guidance, auto-capture, an optional review and the
 * signed upload. Events in order: `guidance` and `quality` per analysed frame, `captured`,
 * `uploading`, `uploaded`, `done`; or `error`.
 */
export declare class Capture extends EventTarget {
  private constructor();
  /** The current state. */
  readonly state: CaptureState;
  /** The capture step. */
  readonly step: Step;
  /**
   * Where frames are analysed: `'worker'` (a module Web Worker, where `Worker`, `OffscreenCanvas`
   * and `createImageBitmap` exist and the worker starts), `'main'` (`worker: false`, or the
   * fallback), or `null` before analysis starts.
   */
  readonly analysisMode: 'worker' | 'main' | null;
  /** Whether the open camera has a torch (`setTorch`). */
  readonly torchAvailable: boolean;
  /** Switches the torch; rejects with `torch_unavailable` when there is none. */
  setTorch(on: boolean): Promise<void>;
  /**
   * The file-input fallback: decodes the photo (EXIF orientation applied; downscaled to at most
   * 1280 px; `invalid_image` for non-images and absurd sizes), runs the live path's quality checks on
   * it and, if it passes, uploads it (signed quality entry `capture.file: 1`). A refused photo emits
   * `guidance` and resolves `{ accepted: false, guidance }`. Usable in state `idle`, `fallback` (after
   * a camera error) or `capturing` (stops the camera). A selfie from a file has no liveness burst:
   * the verifier's liveness check is then inconclusive (`liveness.no_burst`) and a person decides.
   */
  submitFile(file: Blob): Promise<SubmitFileResult>;
  /**
   * Loads the WebAssembly core (once per page) and, for the selfie step, the face module and its
   * BlazeFace model (once per page; see `prefetchFaceModule`), registers a fresh capture key with the
   * verifier (once per session and page), opens the camera and starts analysing frames. Resolves once frames are being
   * analysed; rejects with a {@link TrustCapError} (also emitted as `error`) on failure.
   *
   * @param step the step to capture (default: the `step` option). After `done`, `start(nextStep)`
   *   captures the session's next step with the same object.
   */
  start(step?: Step): Promise<void>;
  /** Review mode: uploads the image of the `captured` event (state `review` only). */
  confirm(): void;
  /** Review mode: discards the image of the `captured` event, reopens the camera and resumes capturing (state `review` only). */
  retake(): void;
  /** Captures the best frame so far now (manual shutter); in the selfie step, starts the liveness burst at the next frame with one face. */
  captureNow(): void;
  /** Stops the camera, the frame loop and any upload in progress. */
  stop(): void;

  addEventListener<K extends keyof CaptureEventMap>(
    type: K,
    listener: (this: Capture, ev: CaptureEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof CaptureEventMap>(
    type: K,
    listener: (this: Capture, ev: CaptureEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

export interface CaptureOptions {
  /** Base URL of the TrustCap verifier, e.g. `https://verify.example.com`. */
  verifierUrl: string;
  /** The session's client token, issued to your backend by `POST /v1/sessions`. */
  token: string;
  /** The step to capture (default `document_front`). */
  step?: Step;
  /**
   * Element that shows the camera preview (one is created off-screen if omitted). For a selfie you may
   * mirror it with CSS (`transform: scaleX(-1)`); the SDK analyses the unmirrored frames.
   */
  video?: HTMLVideoElement;
  /** Optional canvas drawn over the video with a framing guide. */
  canvas?: HTMLCanvasElement;
  /**
   * Extra camera constraints, merged over the defaults (rear camera and ideal 1920×1080 for documents,
   * front camera and ideal 1280×720 for selfies). If the camera cannot meet them
   * (`OverconstrainedError`), the SDK retries without them and then with looser resolutions.
   */
  constraints?: MediaTrackConstraints;
  /** `false` analyses frames on the page's thread instead of a Web Worker (default: worker when supported). */
  worker?: boolean;
  /**
   * Capture the best frame after this many analysed frames even if auto-capture has not
   * triggered (selfie step: start the liveness burst then, once one face is seen). Default: wait
   * for auto-capture.
   */
  autoCaptureFrames?: number;
  /** `id1` (ID card, driving licence) or `id3` (passport page) when your flow knows it; default: guessed from the aspect ratio. */
  documentFormat?: 'id1' | 'id3';
  /**
   * After the image is taken, wait in state `review` (the image is in the `captured` event) for
   * `confirm()` (upload) or `retake()` instead of uploading at once. Default `false`.
   */
  review?: boolean;
}

/**
 * Starts downloading and compiling the WebAssembly core now, before a capture exists (e.g. while
 * the page fetches its session token), so that `start()` does not wait for it. Optional.
 * Resolves true once the core is ready, false if it could not be loaded (never rejects).
 */
export declare function preload(): Promise<boolean>;

/** Prepares a capture of one step. Nothing happens until `capture.start()`. */
export declare function createCapture(options: CaptureOptions): Promise<Capture>;

/**
 * `<input type="file" accept="image/*" capture="environment">` (`capture="user"` for a selfie) for
 * the file fallback; pass `input.files[0]` from its `change` event to `Capture#submitFile`.
 */
export declare function createFileInput(options?: { step?: Step; document?: Document }): HTMLInputElement;
export { verifyWebhook, WebhookSignatureError } from './webhook.js';
export type { VerifyWebhookOptions } from './webhook.js';
export { loadFaceModule, prefetchFaceModule, faceSimdSupported, FACE_MODELS } from './face.js';
export type {
  FaceModelVariant,
  FaceFrame,
  FacePoint,
  FaceBox,
  DetectedFace,
  LivenessSignal,
  LivenessReport,
  LivenessOptions,
  FaceDetector,
  LivenessAnalyzer,
  FaceModule,
} from './face.js';
export { setAssetsUrl, getAssetsUrl } from './assets.js';
