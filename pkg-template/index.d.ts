// Type definitions for @trustcap/web.

/** The package version. */
export declare const VERSION: string;

/** The HTTP content type of a capture upload: `application/vnd.trustcap.capture.v1`. */
export declare const CAPTURE_CONTENT_TYPE: string;

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
 * `camera_denied`, `camera_not_found`, `camera_unavailable`, `network_error`,
 * `wasm_load_failed`, `step_not_allowed`, `key_mismatch`, `random_unavailable`,
 * `frame_error`, `invalid_options`, `invalid_state`, `upload_failed`, `internal`, or a
 * protocol code from sealing (`manifest_invalid`, ...).
 */
export type ErrorCode = string;

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
  /** Frames analysed so far. */
  framesAnalyzed: number;
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

/** `detail` of the `uploaded` event. */
export interface UploadedDetail {
  /** The verifier's id for the capture. */
  captureId: string;
  /** The capture's status at the verifier. */
  status: string;
  /** Selfie step: the client's liveness verdict that was signed into the upload. */
  liveness?: ClientLiveness;
}

/** `detail` of the `error` event. */
export interface ErrorDetail {
  code: ErrorCode;
  message: string;
  /** HTTP status of a server refusal; `undefined` for local failures. */
  status?: number;
}

export interface CaptureEventMap {
  guidance: CustomEvent<GuidanceDetail>;
  captured: CustomEvent<CapturedDetail>;
  uploading: CustomEvent<Record<string, never>>;
  uploaded: CustomEvent<UploadedDetail>;
  error: CustomEvent<ErrorDetail>;
}

export type CaptureState = 'idle' | 'starting' | 'capturing' | 'uploading' | 'uploaded' | 'error' | 'stopped';

/** An error with a stable machine-readable code. */
export declare class TrustCapError extends Error {
  constructor(code: ErrorCode, message: string, status?: number);
  readonly code: ErrorCode;
  /** HTTP status of a server refusal. */
  readonly status?: number;
}

/** One capture of one step: camera, live guidance, auto-capture and the signed upload. */
export declare class Capture extends EventTarget {
  private constructor();
  /** The current state. */
  readonly state: CaptureState;
  /** The capture step. */
  readonly step: Step;
  /**
   * Loads the WebAssembly core (once per page) and, for the selfie step, the face module and its
   * BlazeFace model (once per page; see `prefetchFaceModule`), registers a fresh capture key with the
   * verifier (once per session and page), opens the camera and starts analysing frames. Resolves once frames are being
   * analysed; rejects with a {@link TrustCapError} (also emitted as `error`) on failure.
   */
  start(): Promise<void>;
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
  /** Extra camera constraints, merged over the defaults (facing mode, ideal 1280x720). */
  constraints?: MediaTrackConstraints;
  /**
   * Capture the best frame after this many analysed frames even if auto-capture has not
   * triggered (selfie step: start the liveness burst then, once one face is seen). Default: wait
   * for auto-capture.
   */
  autoCaptureFrames?: number;
  /** `id1` (ID card, driving licence) or `id3` (passport page) when your flow knows it; default: guessed from the aspect ratio. */
  documentFormat?: 'id1' | 'id3';
}

/** Prepares a capture of one step. Nothing happens until `capture.start()`. */
export declare function createCapture(options: CaptureOptions): Promise<Capture>;
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
