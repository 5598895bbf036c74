// Type definitions for @trustcap/web/element: the <trustcap-capture> Web Component.
import type {
  CapturedDetail,
  DoneDetail,
  ErrorDetail,
  GuidanceDetail,
  QualityDetail,
  Step,
  UploadedDetail,
} from './index.js';
import type { MessageOverrides } from './i18n.js';

/** The tag name, `trustcap-capture`. */
export declare const TAG_NAME: string;

/** The element's screens (also reflected in its `screen` attribute). */
export type CaptureScreen = 'intro' | 'camera' | 'fallback' | 'review' | 'uploading' | 'done' | 'error';

/** `detail` of `trustcap-complete`: every step's upload, in order. */
export interface CompleteDetail {
  captures: { step: Step; captureId: string; status: string }[];
}

/** The element's events: the headless capture's, re-dispatched (bubbling, composed), plus `trustcap-complete`. */
export interface TrustCapCaptureEventMap extends Omit<HTMLElementEventMap, 'error'> {
  guidance: CustomEvent<GuidanceDetail>;
  quality: CustomEvent<QualityDetail>;
  captured: CustomEvent<CapturedDetail>;
  uploading: CustomEvent<Record<string, unknown>>;
  uploaded: CustomEvent<UploadedDetail>;
  done: CustomEvent<DoneDetail>;
  error: CustomEvent<ErrorDetail>;
  'trustcap-complete': CustomEvent<CompleteDetail>;
}

/** Parses a `steps` attribute (`document-front,document-back,selfie`) into step names; throws `invalid_options`. */
export declare function parseSteps(value: string | null): Step[];

/**
 * `<trustcap-capture token="…" verifier-url="…" steps="document-front,selfie" lang="es">`: the capture
 * flow with a default UI (camera view with the document frame or face oval, guidance in an ARIA live
 * region, "Step k of n", manual capture, review before upload, upload progress, done and error screens).
 * Attributes: `token`, `verifier-url`, `steps`, `lang`, `autostart`, `no-review`, `document-format`.
 */
export declare class TrustCapCaptureElement extends HTMLElement {
  /** Per-key overrides of the message catalogs. */
  messages: MessageOverrides;
  /** The current screen. */
  readonly screen: CaptureScreen;
  /** The parsed steps. */
  readonly steps: Step[];
  /** Starts the flow (or, after an error, retries the failed step). */
  start(): Promise<void>;
  /** Stops the camera and any upload; back to the start screen of the current step. */
  stop(): void;

  addEventListener<K extends keyof TrustCapCaptureEventMap>(
    type: K,
    listener: (this: TrustCapCaptureElement, ev: TrustCapCaptureEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
}

/** Registers `<trustcap-capture>` (done on import; calling it again does nothing). */
export declare function defineTrustCapCapture(): void;

declare global {
  interface HTMLElementTagNameMap {
    'trustcap-capture': TrustCapCaptureElement;
  }
}
