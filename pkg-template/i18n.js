// @trustcap/web message catalogs: every string of the <trustcap-capture> default UI and every
// guidance code of the on-device analysis, in English, Spanish and French.
//
// Keys are flat (`review.confirm`, `guidance.selfie.no_face`, ...); `{name}` placeholders are
// filled by `format`. The language is chosen by the element's `lang` attribute, then the browser's
// `navigator.language`, falling back to English; integrator overrides merge over it per key.

/** English: the reference catalog (every other catalog has exactly its keys). */
const en = {
  'step.document_front.title': 'Photograph the front of your ID document',
  'step.document_front.lead': 'Hold it flat, inside the frame, in good light. The photo is taken automatically when it is sharp.',
  'step.document_back.title': 'Photograph the back of your ID document',
  'step.document_back.lead': 'Turn the document over and hold it flat, inside the frame, in good light.',
  'step.selfie.title': 'Take a selfie',
  'step.selfie.lead': 'Put your face in the oval and follow the hints. When the oval turns green, hold still for a second.',
  'progress.step': 'Step {current} of {total}',
  'intro.start': 'Start',
  'camera.label': 'Camera preview',
  'camera.opening': 'Opening the camera…',
  'camera.capture': 'Take photo now',
  'camera.burst': '{message} ({frames}/{total})',
  'review.title': 'Check your photo',
  'review.lead.document': 'Make sure the whole document is in the picture and every detail is sharp and readable.',
  'review.lead.selfie': 'Make sure your whole face is visible and sharp.',
  'review.image': 'The photo you just took',
  'review.confirm': 'Use this photo',
  'review.retake': 'Retake',
  'uploading.title': 'Uploading your photo…',
  'uploading.progress': 'Upload progress',
  'done.title': 'All done',
  'done.lead': 'Your photos were sent securely. You can close this page.',
  'error.title': 'Something went wrong',
  'error.code': 'Error code: {code}',
  'error.retry': 'Try again',
  'error.camera_denied': 'Camera access was denied. Allow the camera in your browser settings, then try again.',
  'error.no_camera': 'No camera was found on this device.',
  'error.camera_busy': 'The camera is in use by another app.',
  'error.insecure_context': 'This page cannot use the camera here.',
  'fallback.title.document': 'Take a photo of your document',
  'fallback.title.selfie': 'Take a photo of your face',
  'fallback.lead': 'You can take or choose a photo instead; it is checked the same way.',
  'fallback.choose.document': 'Photo of the document',
  'fallback.choose.selfie': 'Photo of your face',
  'fallback.checking': 'Checking the photo…',
  'fallback.refused': '{message} Please choose another photo.',
  'error.camera_unavailable': 'The camera could not be started. Close other apps that use it, then try again.',
  'error.network_error': 'The connection failed. Check your internet connection, then try again.',
  'error.token_expired': 'This verification link has expired. Please start again from the beginning.',
  'error.generic': 'The photo could not be taken or sent.',
  'guidance.document.no_document': 'Place your ID document in the frame',
  'guidance.document.move_closer': 'Move closer to the document',
  'guidance.document.move_away': 'Move further away so the whole document is visible',
  'guidance.document.align': 'Align the document with the frame',
  'guidance.document.more_light': 'Too dark: find more light',
  'guidance.document.too_bright': 'Too bright: avoid direct light',
  'guidance.document.low_contrast': 'Image is washed out: improve the lighting or clean the lens',
  'guidance.document.reduce_glare': 'Glare detected: tilt the document or move away from the light',
  'guidance.document.too_blurry': 'Image is blurry: hold steady and let the camera focus',
  'guidance.document.hold_still': 'Hold still',
  'guidance.document.ready': 'Ready',
  'guidance.selfie.more_light': 'Too dark: find more light',
  'guidance.selfie.too_bright': 'Too bright: avoid direct light on your face',
  'guidance.selfie.no_face': 'Place your face in the oval',
  'guidance.selfie.multiple_faces': 'Only one person should be in the picture',
  'guidance.selfie.center_face': 'Centre your face in the oval',
  'guidance.selfie.too_close': 'Move the camera a little further away',
  'guidance.selfie.too_far': 'Move the camera closer',
  'guidance.selfie.turn_left': 'Turn your head slightly to your left',
  'guidance.selfie.turn_right': 'Turn your head slightly to your right',
  'guidance.selfie.look_up': 'Raise your chin a little',
  'guidance.selfie.look_down': 'Lower your chin a little',
  'guidance.selfie.tilt_left': 'Straighten your head (tilt it to your left)',
  'guidance.selfie.tilt_right': 'Straighten your head (tilt it to your right)',
  'guidance.selfie.low_contrast': 'Image is washed out: improve the lighting or clean the lens',
  'guidance.selfie.too_blurry': 'Image is blurry: hold steady',
  'guidance.selfie.hold_still': 'Hold still',
  'guidance.selfie.ready': 'Ready',
};

/** Spanish. */
const es = {
  'step.document_front.title': 'Fotografía el anverso de tu documento de identidad',
  'step.document_front.lead': 'Sostenlo plano, dentro del marco y con buena luz. La foto se toma sola cuando está nítida.',
  'step.document_back.title': 'Fotografía el reverso de tu documento de identidad',
  'step.document_back.lead': 'Da la vuelta al documento y sostenlo plano, dentro del marco y con buena luz.',
  'step.selfie.title': 'Hazte un selfi',
  'step.selfie.lead': 'Coloca tu cara en el óvalo y sigue las indicaciones. Cuando el óvalo se ponga verde, quédate quieto un segundo.',
  'progress.step': 'Paso {current} de {total}',
  'intro.start': 'Empezar',
  'camera.label': 'Vista de la cámara',
  'camera.opening': 'Abriendo la cámara…',
  'camera.capture': 'Tomar la foto ahora',
  'camera.burst': '{message} ({frames}/{total})',
  'review.title': 'Revisa tu foto',
  'review.lead.document': 'Comprueba que el documento se ve entero y que todos los datos son nítidos y legibles.',
  'review.lead.selfie': 'Comprueba que tu cara se ve entera y nítida.',
  'review.image': 'La foto que acabas de tomar',
  'review.confirm': 'Usar esta foto',
  'review.retake': 'Repetir',
  'uploading.title': 'Subiendo tu foto…',
  'uploading.progress': 'Progreso de la subida',
  'done.title': 'Listo',
  'done.lead': 'Tus fotos se enviaron de forma segura. Ya puedes cerrar esta página.',
  'error.title': 'Algo salió mal',
  'error.code': 'Código de error: {code}',
  'error.retry': 'Intentar de nuevo',
  'error.camera_denied': 'Se denegó el acceso a la cámara. Permite la cámara en la configuración del navegador e inténtalo de nuevo.',
  'error.no_camera': 'No se encontró ninguna cámara en este dispositivo.',
  'error.camera_busy': 'Otra aplicación está usando la cámara.',
  'error.insecure_context': 'Esta página no puede usar la cámara aquí.',
  'fallback.title.document': 'Haz una foto de tu documento',
  'fallback.title.selfie': 'Haz una foto de tu cara',
  'fallback.lead': 'Puedes hacer o elegir una foto; se comprueba de la misma manera.',
  'fallback.choose.document': 'Foto del documento',
  'fallback.choose.selfie': 'Foto de tu cara',
  'fallback.checking': 'Comprobando la foto…',
  'fallback.refused': '{message} Elige otra foto.',
  'error.camera_unavailable': 'No se pudo iniciar la cámara. Cierra otras aplicaciones que la usen e inténtalo de nuevo.',
  'error.network_error': 'Falló la conexión. Comprueba tu conexión a internet e inténtalo de nuevo.',
  'error.token_expired': 'Este enlace de verificación ha caducado. Vuelve a empezar desde el principio.',
  'error.generic': 'No se pudo tomar o enviar la foto.',
  'guidance.document.no_document': 'Coloca tu documento de identidad en el marco',
  'guidance.document.move_closer': 'Acércate al documento',
  'guidance.document.move_away': 'Aléjate para que se vea el documento entero',
  'guidance.document.align': 'Alinea el documento con el marco',
  'guidance.document.more_light': 'Demasiado oscuro: busca más luz',
  'guidance.document.too_bright': 'Demasiada luz: evita la luz directa',
  'guidance.document.low_contrast': 'La imagen está deslavada: mejora la luz o limpia la lente',
  'guidance.document.reduce_glare': 'Hay reflejos: inclina el documento o apártate de la luz',
  'guidance.document.too_blurry': 'La imagen está borrosa: mantén el pulso y deja enfocar a la cámara',
  'guidance.document.hold_still': 'No te muevas',
  'guidance.document.ready': 'Listo',
  'guidance.selfie.more_light': 'Demasiado oscuro: busca más luz',
  'guidance.selfie.too_bright': 'Demasiada luz: evita la luz directa en la cara',
  'guidance.selfie.no_face': 'Coloca tu cara en el óvalo',
  'guidance.selfie.multiple_faces': 'Solo debe aparecer una persona en la imagen',
  'guidance.selfie.center_face': 'Centra tu cara en el óvalo',
  'guidance.selfie.too_close': 'Aleja un poco la cámara',
  'guidance.selfie.too_far': 'Acerca la cámara',
  'guidance.selfie.turn_left': 'Gira un poco la cabeza hacia tu izquierda',
  'guidance.selfie.turn_right': 'Gira un poco la cabeza hacia tu derecha',
  'guidance.selfie.look_up': 'Levanta un poco la barbilla',
  'guidance.selfie.look_down': 'Baja un poco la barbilla',
  'guidance.selfie.tilt_left': 'Endereza la cabeza (inclínala hacia tu izquierda)',
  'guidance.selfie.tilt_right': 'Endereza la cabeza (inclínala hacia tu derecha)',
  'guidance.selfie.low_contrast': 'La imagen está deslavada: mejora la luz o limpia la lente',
  'guidance.selfie.too_blurry': 'La imagen está borrosa: no te muevas',
  'guidance.selfie.hold_still': 'No te muevas',
  'guidance.selfie.ready': 'Listo',
};

/** French. */
const fr = {
  'step.document_front.title': 'Photographiez le recto de votre pièce d’identité',
  'step.document_front.lead': 'Tenez-la à plat, dans le cadre, sous un bon éclairage. La photo est prise automatiquement dès qu’elle est nette.',
  'step.document_back.title': 'Photographiez le verso de votre pièce d’identité',
  'step.document_back.lead': 'Retournez le document et tenez-le à plat, dans le cadre, sous un bon éclairage.',
  'step.selfie.title': 'Prenez un selfie',
  'step.selfie.lead': 'Placez votre visage dans l’ovale et suivez les indications. Quand l’ovale devient vert, ne bougez plus pendant une seconde.',
  'progress.step': 'Étape {current} sur {total}',
  'intro.start': 'Commencer',
  'camera.label': 'Aperçu de la caméra',
  'camera.opening': 'Ouverture de la caméra…',
  'camera.capture': 'Prendre la photo maintenant',
  'camera.burst': '{message} ({frames}/{total})',
  'review.title': 'Vérifiez votre photo',
  'review.lead.document': 'Vérifiez que le document est entièrement visible et que chaque information est nette et lisible.',
  'review.lead.selfie': 'Vérifiez que votre visage est entièrement visible et net.',
  'review.image': 'La photo que vous venez de prendre',
  'review.confirm': 'Utiliser cette photo',
  'review.retake': 'Reprendre',
  'uploading.title': 'Envoi de votre photo…',
  'uploading.progress': 'Progression de l’envoi',
  'done.title': 'C’est terminé',
  'done.lead': 'Vos photos ont été envoyées de manière sécurisée. Vous pouvez fermer cette page.',
  'error.title': 'Un problème est survenu',
  'error.code': 'Code d’erreur : {code}',
  'error.retry': 'Réessayer',
  'error.camera_denied': 'L’accès à la caméra a été refusé. Autorisez la caméra dans les réglages du navigateur, puis réessayez.',
  'error.no_camera': 'Aucune caméra n’a été trouvée sur cet appareil.',
  'error.camera_busy': 'La caméra est utilisée par une autre application.',
  'error.insecure_context': 'Cette page ne peut pas utiliser la caméra ici.',
  'fallback.title.document': 'Prenez une photo de votre document',
  'fallback.title.selfie': 'Prenez une photo de votre visage',
  'fallback.lead': 'Vous pouvez prendre ou choisir une photo à la place ; elle est vérifiée de la même façon.',
  'fallback.choose.document': 'Photo du document',
  'fallback.choose.selfie': 'Photo de votre visage',
  'fallback.checking': 'Vérification de la photo…',
  'fallback.refused': '{message} Choisissez une autre photo.',
  'error.camera_unavailable': 'La caméra n’a pas pu démarrer. Fermez les autres applications qui l’utilisent, puis réessayez.',
  'error.network_error': 'La connexion a échoué. Vérifiez votre connexion internet, puis réessayez.',
  'error.token_expired': 'Ce lien de vérification a expiré. Veuillez recommencer depuis le début.',
  'error.generic': 'La photo n’a pas pu être prise ou envoyée.',
  'guidance.document.no_document': 'Placez votre pièce d’identité dans le cadre',
  'guidance.document.move_closer': 'Rapprochez-vous du document',
  'guidance.document.move_away': 'Éloignez-vous pour que tout le document soit visible',
  'guidance.document.align': 'Alignez le document sur le cadre',
  'guidance.document.more_light': 'Trop sombre : trouvez plus de lumière',
  'guidance.document.too_bright': 'Trop lumineux : évitez la lumière directe',
  'guidance.document.low_contrast': 'Image délavée : améliorez l’éclairage ou nettoyez l’objectif',
  'guidance.document.reduce_glare': 'Reflets détectés : inclinez le document ou éloignez-vous de la lumière',
  'guidance.document.too_blurry': 'Image floue : restez stable et laissez la caméra faire la mise au point',
  'guidance.document.hold_still': 'Ne bougez plus',
  'guidance.document.ready': 'Prêt',
  'guidance.selfie.more_light': 'Trop sombre : trouvez plus de lumière',
  'guidance.selfie.too_bright': 'Trop lumineux : évitez la lumière directe sur votre visage',
  'guidance.selfie.no_face': 'Placez votre visage dans l’ovale',
  'guidance.selfie.multiple_faces': 'Une seule personne doit figurer sur l’image',
  'guidance.selfie.center_face': 'Centrez votre visage dans l’ovale',
  'guidance.selfie.too_close': 'Éloignez un peu la caméra',
  'guidance.selfie.too_far': 'Rapprochez la caméra',
  'guidance.selfie.turn_left': 'Tournez légèrement la tête vers votre gauche',
  'guidance.selfie.turn_right': 'Tournez légèrement la tête vers votre droite',
  'guidance.selfie.look_up': 'Relevez un peu le menton',
  'guidance.selfie.look_down': 'Baissez un peu le menton',
  'guidance.selfie.tilt_left': 'Redressez la tête (penchez-la vers votre gauche)',
  'guidance.selfie.tilt_right': 'Redressez la tête (penchez-la vers votre droite)',
  'guidance.selfie.low_contrast': 'Image délavée : améliorez l’éclairage ou nettoyez l’objectif',
  'guidance.selfie.too_blurry': 'Image floue : ne bougez pas',
  'guidance.selfie.hold_still': 'Ne bougez plus',
  'guidance.selfie.ready': 'Prêt',
};

/** The built-in catalogs by primary language subtag (`en`, `es`, `fr`). Frozen. */
export const CATALOGS = Object.freeze({ en: Object.freeze(en), es: Object.freeze(es), fr: Object.freeze(fr) });

/** The language used when neither the `lang` attribute nor the browser names a supported one. */
export const DEFAULT_LANGUAGE = 'en';

/**
 * The supported language for a BCP 47 tag (`es-MX` → `es`), or `null` when there is no catalog for it.
 *
 * @param {unknown} tag
 * @returns {string | null}
 */
export function supportedLanguage(tag) {
  if (typeof tag !== 'string') return null;
  const primary = tag.trim().toLowerCase().split(/[-_]/)[0];
  return Object.prototype.hasOwnProperty.call(CATALOGS, primary) ? primary : null;
}

/**
 * Picks the catalog language: the first supported of `lang`, then the browser's preferred
 * languages, else {@link DEFAULT_LANGUAGE}.
 *
 * @param {string | null | undefined} lang the element's `lang` attribute
 * @param {readonly string[]} [browserLanguages] default `navigator.languages` (or `navigator.language`)
 * @returns {string}
 */
export function resolveLanguage(lang, browserLanguages) {
  const fromBrowser =
    browserLanguages ??
    (typeof navigator === 'undefined' ? [] : navigator.languages?.length ? navigator.languages : [navigator.language]);
  for (const tag of [lang, ...fromBrowser]) {
    const found = supportedLanguage(tag);
    if (found) return found;
  }
  return DEFAULT_LANGUAGE;
}

/**
 * Fills `{name}` placeholders of `template` from `params`; unknown placeholders stay as written.
 *
 * @param {string} template
 * @param {Record<string, string | number>} [params]
 * @returns {string}
 */
export function format(template, params = {}) {
  return template.replace(/\{([a-z_]+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

/**
 * The messages of `lang` with the integrator's `overrides` merged over them per key. Overrides are
 * either flat (`{ 'review.confirm': 'OK' }`, for every language) or by language
 * (`{ es: { 'review.confirm': 'Vale' } }`); only string values for known keys are taken.
 *
 * @param {string} lang a supported language (see {@link resolveLanguage})
 * @param {Record<string, unknown>} [overrides]
 * @returns {Readonly<Record<string, string>>}
 */
export function messagesFor(lang, overrides) {
  const merged = { ...en, ...(CATALOGS[lang] || {}) };
  const apply = (source) => {
    if (!source || typeof source !== 'object') return;
    for (const [key, value] of Object.entries(source)) {
      if (typeof value === 'string' && Object.prototype.hasOwnProperty.call(en, key)) merged[key] = value;
    }
  };
  if (overrides && typeof overrides === 'object') {
    apply(overrides);
    const byLanguage = overrides[lang];
    if (byLanguage && typeof byLanguage === 'object') apply(byLanguage);
  }
  return Object.freeze(merged);
}

/**
 * A translator for `lang` with `overrides`: `t(key, params)` returns the message, formatted; an
 * unknown key returns the key itself.
 *
 * @param {string} lang
 * @param {Record<string, unknown>} [overrides]
 * @returns {(key: string, params?: Record<string, string | number>) => string}
 */
export function createTranslator(lang, overrides) {
  const messages = messagesFor(lang, overrides);
  return (key, params) => {
    const template = Object.prototype.hasOwnProperty.call(messages, key) ? messages[key] : key;
    return format(template, params);
  };
}

/**
 * The message for guidance `code` in `step` (document steps share `guidance.document.*`), or `null`
 * when the catalog has no entry for that code (show the SDK's English `message` then).
 *
 * @param {(key: string, params?: Record<string, string | number>) => string} t a translator
 * @param {string} step `document_front`, `document_back` or `selfie`
 * @param {string} code
 * @returns {string | null}
 */
export function guidanceMessage(t, step, code) {
  const key = `guidance.${step === 'selfie' ? 'selfie' : 'document'}.${code}`;
  const text = t(key);
  return text === key ? null : text;
}
