// Type definitions for the asset locations of @trustcap/web (assets.js).

/** The name of a binary the package loads. */
export type AssetName = 'coreWasm' | 'faceWasm' | 'faceWasmPlain' | 'faceModelFront128' | 'faceModelBack256';

/** The package-relative path of every asset, by name (e.g. `wasm/trustcap_wasm_bg.wasm`). */
export declare const ASSET_PATHS: Readonly<Record<AssetName, string>>;

/**
 * Serves the package's binaries (WebAssembly modules, face models) from `url` instead of next to
 * the package's JS: the folder that holds the package's `wasm/`, `wasm-face-simd/`, `wasm-face/` and
 * `models/` folders, absolute or relative to the page. `null` restores the default. Call it before the
 * first capture. Throws a `TrustCapError` (`invalid_options`) unless `url` is an http(s) URL
 * without query or fragment.
 */
export declare function setAssetsUrl(url: string | URL | null): void;

/** The asset base set with {@link setAssetsUrl}, or `null` (assets next to the package's JS). */
export declare function getAssetsUrl(): string | null;

/** The URL an asset is loaded from. */
export declare function assetUrl(name: AssetName): URL;
