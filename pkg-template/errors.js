// The package's error type: every failure the SDK reports carries a stable machine-readable code.

/** An error with a stable machine-readable `code` (and the HTTP `status` for server refusals). */
export class TrustCapError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {number} [status]
   * @param {{ fileFallback?: boolean }} [extra] `fileFallback: true` when the page should offer a
   *   photo from a file input instead (camera failures; see `Capture#submitFile`)
   */
  constructor(code, message, status, extra) {
    super(message);
    this.name = 'TrustCapError';
    this.code = code;
    this.status = status;
    this.fileFallback = Boolean(extra && extra.fileFallback);
  }
}
