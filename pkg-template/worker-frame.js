// Shared by the analysis workers (worker.js for documents, selfie-worker.js for selfies): the shape
// of the errors they answer with, and the OffscreenCanvas each transferred frame is drawn into.

/** The largest frame side a worker accepts, pixels. */
const MAX_SIDE = 8192;

/**
 * An error as a worker answers it: `{ code, message }`, the code taken from a `TrustCapError` or from
 * a wasm error's "<code>: <detail>" message, else `fallback`.
 *
 * @param {unknown} err
 * @param {string} fallback
 * @returns {{ code: string, message: string }}
 */
export function errorOf(err, fallback) {
  if (err && typeof err.code === 'string' && err.name === 'TrustCapError') return { code: err.code, message: err.message };
  const message = String(err && err.message !== undefined ? err.message : err);
  const match = /^([a-z0-9_]+): /.exec(message);
  return { code: match ? match[1] : fallback, message };
}

/** The canvas a worker draws frames into, at the analysis size the page asked for. */
export class FrameSurface {
  #canvas = null;
  #ctx = null;

  /**
   * Draws `bitmap` scaled to `width`×`height` and reads its pixels back (a fresh `ImageData` each
   * call). `resized` is true when the size differs from the previous frame's (the first frame, a
   * rotation, a reopened camera): the analysis should start over. Throws `invalid_argument` for a
   * size of 0 or above 8192.
   *
   * @param {ImageBitmap} bitmap
   * @param {number} width
   * @param {number} height
   * @returns {{ image: ImageData, resized: boolean }}
   */
  draw(bitmap, width, height) {
    const w = width >>> 0;
    const h = height >>> 0;
    if (!w || !h || w > MAX_SIDE || h > MAX_SIDE) throw new Error('invalid_argument: frame size');
    let resized = false;
    if (!this.#canvas || this.#canvas.width !== w || this.#canvas.height !== h) {
      this.#canvas = new OffscreenCanvas(w, h);
      this.#ctx = this.#canvas.getContext('2d', { willReadFrequently: true });
      resized = true;
    }
    this.#ctx.drawImage(bitmap, 0, 0, w, h);
    return { image: this.#ctx.getImageData(0, 0, w, h), resized };
  }
}
