// Type definitions for the face module loader of @trustcap/web (face.js).

/** A BlazeFace model variant: `front128` for selfies, `back256` for small faces (a document portrait). */
export type FaceModelVariant = 'front128' | 'back256';

/** Package-relative URLs of the BlazeFace models the package serves. */
export declare const FACE_MODELS: Readonly<Record<FaceModelVariant, string>>;

/** RGBA pixels: an `ImageData`, or the same fields with an optional row stride in bytes (default `width * 4`). */
export interface FaceFrame {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  stride?: number;
}

/** A point in frame pixels (x right, y down). */
export interface FacePoint {
  x: number;
  y: number;
}

/** A face box in frame pixels. */
export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One detected face, in frame pixels. */
export interface DetectedFace {
  /** Face probability in [0, 1]. */
  score: number;
  box: FaceBox;
  /** The subject's right eye is on the image's left on a frontal face. */
  keypoints: {
    rightEye: FacePoint;
    leftEye: FacePoint;
    noseTip: FacePoint;
    mouth: FacePoint;
    rightEar: FacePoint;
    leftEar: FacePoint;
  };
}

/** One liveness signal: an attack likelihood with an explanation. */
export interface LivenessSignal {
  /** `planar_motion`, `screen_or_print_pattern`, `flicker`, `colour` or `injection` (more may be added). */
  name: string;
  /** Likelihood of an attack in [0, 1]. */
  attack: number;
  /** Whether the burst gave this signal anything to judge. */
  judged: boolean;
  explanation: string;
}

/** The liveness verdict of a burst. */
export interface LivenessReport {
  frames: number;
  /** `1 - max(attack)` over the judged signals, in [0, 1]. */
  score: number;
  passed: boolean;
  /** The signal that decided, if any showed an attack. */
  decisive: string | null;
  signals: LivenessSignal[];
  /** Measurements behind the signals (planar motion, spectral peak, flicker, chroma, injection). */
  [measurement: string]: unknown;
}

/** Options of a liveness burst. */
export interface LivenessOptions {
  /** Score at or above which the burst passes (default 0.5). */
  threshold?: number;
  /** Fewest frames for a verdict (default 8, at most 120). */
  minFrames?: number;
  /** The camera track's label (for the virtual-camera check). */
  cameraLabel?: string;
}

/** BlazeFace on RGBA frames. Errors are `TrustCapError`s (`frame_*`, `inference_failed`, `face_module_crashed`). */
export declare class FaceDetector {
  private constructor();
  readonly variant: FaceModelVariant;
  readonly inputSize: number;
  /** Minimum score of a reported face (default 0.5). */
  minScore: number;
  /** Faces in the frame, best first. */
  detect(frame: FaceFrame): DetectedFace[];
  /** Releases the model's memory. */
  free(): void;
}

/** Passive liveness on one burst. Errors: `bad_face_box`, `bad_timestamp`, `frame_size_changed`, `too_many_frames`, `frame_*`. */
export declare class LivenessAnalyzer {
  private constructor();
  readonly frames: number;
  /** Adds a frame with the face's box and its timestamp in milliseconds. */
  push(frame: FaceFrame, box: FaceBox, timestampMs: number): void;
  report(): LivenessReport;
  /** The report as JSON text (what goes into the signed payload). */
  reportJson(): string;
  free(): void;
}

/** The loaded face module. */
export declare class FaceModule {
  private constructor();
  /** Whether the running build is the one with WebAssembly SIMD kernels (otherwise the slower one without). */
  readonly simd: boolean;
  readonly version: string;
  /**
   * A detector; the model comes from `model` (bytes), `modelUrl`, or the package's own copy.
   * Rejects with `unknown_model_variant`, `model_fetch_failed`, `model_too_large` or `model_invalid`.
   */
  createDetector(
    variant?: FaceModelVariant,
    options?: { model?: ArrayBuffer | Uint8Array; modelUrl?: string; minScore?: number },
  ): Promise<FaceDetector>;
  /** Throws `invalid_options` for unknown or out-of-range options. */
  createLivenessAnalyzer(options?: LivenessOptions): LivenessAnalyzer;
}

/** Whether this browser runs WebAssembly SIMD, so that the face module's SIMD build loads (else the build without SIMD). */
export declare function faceSimdSupported(): boolean;

/**
 * Downloads and compiles the face module (and the models listed, default `front128`) in idle
 * time (only the build this browser runs). Call it when the selfie step nears. Never rejects; does
 * nothing without WebAssembly.
 */
export declare function prefetchFaceModule(options?: { models?: FaceModelVariant[] }): Promise<void>;

/**
 * Loads the face module once per page (cached): the SIMD build where WebAssembly SIMD runs, the
 * build without SIMD elsewhere. Rejects with `face_module_unsupported` (no WebAssembly) or
 * `face_module_load_failed` (a later call tries again).
 */
export declare function loadFaceModule(): Promise<FaceModule>;

/**
 * The face module compiled for this browser (the build `loadFaceModule` picks), downloaded and
 * compiled once per page. A `WebAssembly.Module` can be posted to a worker.
 */
export declare function compiledFaceModule(): Promise<WebAssembly.Module>;

/**
 * Makes `module` (from `compiledFaceModule` on another thread) the compiled face module of this
 * realm, unless one is already compiled or loading. For workers; pages do not need it.
 */
export declare function adoptCompiledFaceModule(module: WebAssembly.Module): void;

/** The bytes of a BlazeFace model variant, fetched once per page (shared with `prefetchFaceModule`). */
export declare function faceModelBytes(variant: FaceModelVariant): Promise<Uint8Array>;
