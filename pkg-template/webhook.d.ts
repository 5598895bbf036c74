/** Why a webhook signature was refused. */
export declare class WebhookSignatureError extends Error {
  readonly code: 'malformed' | 'stale' | 'mismatch';
}

/** Options of {@link verifyWebhook}. */
export interface VerifyWebhookOptions {
  /** Largest accepted difference between the signed timestamp and `now`, in seconds (default 300). */
  toleranceSeconds?: number;
  /** The current time in Unix seconds (default: the system clock). */
  now?: number;
}

/**
 * Verifies a TrustCap webhook delivery (`TrustCap-Signature: t=...,v1=...`) over the raw
 * body with your endpoint secret. Resolves to the signed timestamp; rejects with a
 * {@link WebhookSignatureError}.
 */
export declare function verifyWebhook(
  body: string | Uint8Array | ArrayBuffer,
  header: string,
  secret: string,
  options?: VerifyWebhookOptions,
): Promise<number>;
