// The message catalogs of <trustcap-capture> (pkg-template/i18n.js), checked in Node (no browser): every
// catalog has exactly the English keys and the same placeholders, every guidance code the on-device
// analysis can emit (trustcap_vision's document and selfie guidance) has a message, and the language
// choice and integrator overrides behave as documented. Run by `cargo xtask test` with the e2e suite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CATALOGS,
  createTranslator,
  format,
  guidanceMessage,
  messagesFor,
  resolveLanguage,
  supportedLanguage,
} from '../../pkg-template/i18n.js';

const root = new URL('../../', import.meta.url);
const placeholders = (text) => [...text.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]).sort();

/** The codes a Rust `fn code(self) -> &'static str` match returns: `Variant => "snake_case",`. */
function rustCodes(path) {
  const text = readFileSync(fileURLToPath(new URL(path, root)), 'utf8');
  const codes = [...text.matchAll(/=> "([a-z_]+)",/g)].map((m) => m[1]);
  assert.ok(codes.length >= 10, `found guidance codes in ${path}: ${codes}`);
  return new Set(codes);
}

test('every catalog has exactly the English keys, non-empty, with the same placeholders', () => {
  const english = Object.keys(CATALOGS.en).sort();
  assert.ok(english.length > 50);
  assert.deepEqual(Object.keys(CATALOGS).sort(), ['en', 'es', 'fr']);
  for (const [lang, catalog] of Object.entries(CATALOGS)) {
    assert.deepEqual(Object.keys(catalog).sort(), english, `keys of ${lang}`);
    for (const key of english) {
      assert.equal(typeof catalog[key], 'string', `${lang} ${key}`);
      assert.ok(catalog[key].trim().length > 0, `${lang} ${key} is empty`);
      assert.deepEqual(placeholders(catalog[key]), placeholders(CATALOGS.en[key]), `placeholders of ${lang} ${key}`);
    }
  }
  // The translations are translations: most strings differ from English.
  for (const lang of ['es', 'fr']) {
    const same = english.filter((k) => CATALOGS[lang][k] === CATALOGS.en[k]);
    assert.ok(same.length <= 2, `${lang} strings identical to English: ${same}`);
  }
});

test('every guidance code of the vision core has a message in every language', () => {
  const document = rustCodes('crates/vision/src/guidance.rs');
  const selfie = rustCodes('crates/vision/src/selfie/mod.rs');
  for (const lang of Object.keys(CATALOGS)) {
    const t = createTranslator(lang);
    for (const code of document) assert.ok(guidanceMessage(t, 'document_front', code), `${lang} document ${code}`);
    for (const code of document) assert.ok(guidanceMessage(t, 'document_back', code), `${lang} document ${code}`);
    for (const code of selfie) assert.ok(guidanceMessage(t, 'selfie', code), `${lang} selfie ${code}`);
  }
  // No catalog entry for a code the core does not have (a typo would never be shown).
  for (const key of Object.keys(CATALOGS.en).filter((k) => k.startsWith('guidance.'))) {
    const [, kind, code] = key.split('.');
    assert.ok((kind === 'selfie' ? selfie : document).has(code), `${key} is not a guidance code of the core`);
  }
  assert.equal(guidanceMessage(createTranslator('en'), 'selfie', 'not_a_code'), null);
});

test('the language is the lang attribute, then the browser languages, then English', () => {
  assert.equal(resolveLanguage('es', ['fr-FR']), 'es');
  assert.equal(resolveLanguage('es-MX', []), 'es');
  assert.equal(resolveLanguage('FR_ca', []), 'fr');
  assert.equal(resolveLanguage(null, ['de-DE', 'fr-CA', 'es']), 'fr');
  assert.equal(resolveLanguage('de', ['it']), 'en');
  assert.equal(resolveLanguage(undefined, []), 'en');
  assert.equal(resolveLanguage('', ['']), 'en');
  assert.equal(supportedLanguage(42), null);
  assert.equal(supportedLanguage('__proto__'), null);
  assert.equal(supportedLanguage('constructor'), null);
});

test('integrator overrides merge per key, flat or by language; unknown keys and non-strings are ignored', () => {
  const overrides = {
    'review.confirm': 'Send it',
    'intro.start': 42,
    'no.such.key': 'x',
    es: { 'review.retake': 'Otra vez' },
    fr: { 'review.retake': 'Encore' },
  };
  const es = messagesFor('es', overrides);
  assert.equal(es['review.confirm'], 'Send it');
  assert.equal(es['review.retake'], 'Otra vez');
  assert.equal(es['intro.start'], CATALOGS.es['intro.start']);
  assert.equal(es['done.title'], CATALOGS.es['done.title']);
  assert.equal(Object.prototype.hasOwnProperty.call(es, 'no.such.key'), false);
  assert.deepEqual(Object.keys(es).sort(), Object.keys(CATALOGS.en).sort());
  assert.equal(messagesFor('fr', overrides)['review.retake'], 'Encore');
  assert.equal(messagesFor('en', overrides)['review.retake'], CATALOGS.en['review.retake']);
  assert.equal(messagesFor('en', null)['review.confirm'], CATALOGS.en['review.confirm']);
  // The built-in catalogs are never changed by an override.
  assert.notEqual(CATALOGS.es['review.confirm'], 'Send it');
});

test('messages are formatted with their placeholders', () => {
  const t = createTranslator('fr');
  assert.equal(t('progress.step', { current: 1, total: 3 }), 'Étape 1 sur 3');
  assert.equal(createTranslator('es')('progress.step', { current: 2, total: 2 }), 'Paso 2 de 2');
  assert.equal(t('unknown.key'), 'unknown.key');
  assert.equal(format('{a} and {b}', { a: 'x' }), 'x and {b}');
  assert.equal(format('{constructor}', {}), '{constructor}');
});
