// Type definitions for @trustcap/web/i18n: the message catalogs of the <trustcap-capture> default UI.

/** A message key: `review.confirm`, `progress.step`, `guidance.document.too_blurry`, `guidance.selfie.no_face`, ... */
export type MessageKey = string;

/** A catalog: every UI string and guidance message by key; `{name}` placeholders are filled at display time. */
export type Catalog = Readonly<Record<MessageKey, string>>;

/**
 * Integrator overrides merged over the chosen catalog per key: flat (`{ 'review.confirm': 'OK' }`, any
 * language) or by language (`{ es: { 'review.confirm': 'Vale' } }`). Unknown keys are ignored.
 */
export type MessageOverrides = Record<string, string | Record<MessageKey, string>>;

/** A translator: the message for `key` with its placeholders filled (the key itself when unknown). */
export type Translator = (key: MessageKey, params?: Record<string, string | number>) => string;

/** The built-in catalogs: English (`en`, the reference), Spanish (`es`) and French (`fr`). */
export declare const CATALOGS: Readonly<Record<'en' | 'es' | 'fr', Catalog>>;

/** The fallback language, `en`. */
export declare const DEFAULT_LANGUAGE: string;

/** The supported language for a BCP 47 tag (`es-MX` → `es`), or `null`. */
export declare function supportedLanguage(tag: unknown): string | null;

/** The first supported of `lang`, then the browser's languages (default `navigator.languages`), else `en`. */
export declare function resolveLanguage(lang: string | null | undefined, browserLanguages?: readonly string[]): string;

/** Fills `{name}` placeholders from `params`; unknown placeholders stay as written. */
export declare function format(template: string, params?: Record<string, string | number>): string;

/** The messages of `lang` with `overrides` merged over them per key. */
export declare function messagesFor(lang: string, overrides?: MessageOverrides): Catalog;

/** A {@link Translator} for `lang` with `overrides`. */
export declare function createTranslator(lang: string, overrides?: MessageOverrides): Translator;

/** The catalog message for guidance `code` in `step`, or `null` when the catalog has none (show the SDK's `message`). */
export declare function guidanceMessage(t: Translator, step: string, code: string): string | null;
