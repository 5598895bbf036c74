// @trustcap/web asset locations: the WebAssembly modules and the face models.
//
// Every binary the package loads is resolved here, and only here, with a static
// `new URL('./…', import.meta.url)`: relative to this module, so the package works when its
// folder is served as is (from your server or a CDN path) and through bundlers, which recognise
// the pattern and copy the file into their output (Vite, webpack 5, Rollup with its URL plugin,
// Parcel). The URL must stay a literal for them to see it, hence one `new URL` per asset.
//
// For hosts that serve the binaries from somewhere else than the JS (a CDN that rewrites paths,
// an asset pipeline that renames files), `setAssetsUrl(base)` replaces the base: the package's
// relative paths (`wasm/trustcap_wasm_bg.wasm`, ...) are then resolved against it. The package
// fetches nothing else but the customer's verifier.

import { TrustCapError } from './errors.js';

/** The package-relative path of every asset, by name. */
export const ASSET_PATHS = Object.freeze({
  coreWasm: 'wasm/trustcap_wasm_bg.wasm',
  faceWasm: 'wasm-face-simd/trustcap_wasm_face_bg.wasm',
  faceWasmPlain: 'wasm-face/trustcap_wasm_face_bg.wasm',
  faceModelFront128: 'models/blazeface_front_128.onnx',
  faceModelBack256: 'models/blazeface_back_256.onnx',
});

// The default locations: literal `new URL` calls, one per asset, evaluated lazily.
const DEFAULTS = {
  coreWasm: () => new URL('./wasm/trustcap_wasm_bg.wasm', import.meta.url),
  faceWasm: () => new URL('./wasm-face-simd/trustcap_wasm_face_bg.wasm', import.meta.url),
  faceWasmPlain: () => new URL('./wasm-face/trustcap_wasm_face_bg.wasm', import.meta.url),
  faceModelFront128: () => new URL('./models/blazeface_front_128.onnx', import.meta.url),
  faceModelBack256: () => new URL('./models/blazeface_back_256.onnx', import.meta.url),
};

let base = null;

function baseOf(value) {
  const relativeTo = typeof document !== 'undefined' && document.baseURI ? document.baseURI : import.meta.url;
  const url = new URL(value, relativeTo);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('not http(s)');
  if (url.search || url.hash) throw new TypeError('has a query or fragment');
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/**
 * Serves the package's binaries (WebAssembly modules, face models) from `url` instead of next to
 * the package's JS: `url` is the folder that holds the package's `wasm/`, `wasm-face-simd/`,
 * `wasm-face/` and `models/` folders, absolute or relative to the page. `null` restores the default. Call it
 * before the first capture: a module already loaded is not loaded again.
 *
 * @param {string | URL | null} url
 * @throws {TrustCapError} `invalid_options` when `url` is not an http(s) URL without query or fragment
 */
export function setAssetsUrl(url) {
  if (url === null || url === undefined) {
    base = null;
    return;
  }
  try {
    base = baseOf(String(url));
  } catch (err) {
    throw new TrustCapError(
      'invalid_options',
      `assetsUrl must be an http(s) folder URL without query or fragment: ${err.message}`,
    );
  }
}

/**
 * The asset base set with {@link setAssetsUrl}, or `null` (assets next to the package's JS).
 *
 * @returns {string | null}
 */
export function getAssetsUrl() {
  return base ? base.href : null;
}

/**
 * The URL an asset is loaded from.
 *
 * @param {'coreWasm' | 'faceWasm' | 'faceWasmPlain' | 'faceModelFront128' | 'faceModelBack256'} name
 * @returns {URL}
 */
export function assetUrl(name) {
  const make = Object.prototype.hasOwnProperty.call(DEFAULTS, name) ? DEFAULTS[name] : null;
  if (!make) throw new TrustCapError('invalid_options', `unknown asset ${name}`);
  return base ? new URL(ASSET_PATHS[name], base) : make();
}
