// The file-input fallback's image handling: decoding a still photo (EXIF orientation applied),
// refusing what is not an image or is absurdly large, and scaling it to the size the live path
// analyses, so the same quality checks give the same answers.

import { TrustCapError } from './errors.js';

/** Largest photo file accepted, in bytes (phone cameras write 2–15 MB). */
export const MAX_STILL_BYTES = 40 * 1024 * 1024;
/** Largest decoded side accepted, in pixels. */
export const MAX_STILL_SIDE = 16384;
/** Largest decoded area accepted, in pixels (a 100-megapixel sensor). */
export const MAX_STILL_PIXELS = 100_000_000;
/** Smallest side accepted, in pixels: below this no check can judge the photo. */
export const MIN_STILL_SIDE = 64;
/** Longest side the still is analysed and uploaded at (the live path's largest frame). */
export const STILL_ANALYSIS_SIDE = 1280;

function invalid(message) {
  return new TrustCapError('invalid_image', message);
}

/**
 * The size a still of `width`×`height` is analysed at: scaled down (never up) so that its longer
 * side is at most {@link STILL_ANALYSIS_SIDE}.
 *
 * @param {number} width
 * @param {number} height
 * @returns {{ width: number, height: number }}
 */
export function analysisSize(width, height) {
  const scale = Math.min(1, STILL_ANALYSIS_SIDE / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Checks a decoded photo's dimensions; throws `invalid_image` when they are absurd or too small.
 * @param {number} width
 * @param {number} height
 */
export function checkStillSize(width, height) {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw invalid('the photo has no pixels');
  }
  if (width > MAX_STILL_SIDE || height > MAX_STILL_SIDE || width * height > MAX_STILL_PIXELS) {
    throw invalid(`the photo is too large (${width}×${height})`);
  }
  if (Math.min(width, height) < MIN_STILL_SIDE) throw invalid(`the photo is too small (${width}×${height})`);
}

/**
 * Decodes a photo (a `File` from `<input type=file>` or any `Blob`) with its EXIF orientation
 * applied and returns it scaled to the analysis size as RGBA pixels on a 2D canvas. Rejects with
 * `invalid_image` for anything that is not a decodable image of sane size.
 *
 * @param {Blob} file
 * @returns {Promise<{ canvas: OffscreenCanvas | HTMLCanvasElement, ctx: CanvasRenderingContext2D,
 *   image: ImageData, width: number, height: number, sourceWidth: number, sourceHeight: number }>}
 */
export async function decodeStill(file) {
  if (typeof Blob === 'undefined' || !(file instanceof Blob)) throw invalid('submitFile needs a File or Blob');
  if (file.size === 0) throw invalid('the file is empty');
  if (file.size > MAX_STILL_BYTES) throw invalid(`the file is too large (${file.size} bytes)`);
  if (file.type && !file.type.startsWith('image/')) throw invalid(`not an image (${file.type})`);
  if (typeof createImageBitmap !== 'function') throw new TrustCapError('unsupported', 'this browser cannot decode images');
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    throw invalid('the file could not be decoded as an image');
  }
  try {
    const sourceWidth = bitmap.width;
    const sourceHeight = bitmap.height;
    checkStillSize(sourceWidth, sourceHeight);
    const { width, height } = analysisSize(sourceWidth, sourceHeight);
    const canvas = makeCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new TrustCapError('unsupported', 'no 2D canvas');
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, width, height);
    const image = ctx.getImageData(0, 0, width, height);
    return { canvas, ctx, image, width, height, sourceWidth, sourceHeight };
  } finally {
    bitmap.close();
  }
}

function makeCanvas(width, height) {
  if (typeof OffscreenCanvas === 'function') return new OffscreenCanvas(width, height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}
