//! Sanctions and PEP screening: list importers, name normalisation and transliteration, a
//! candidate index, and fuzzy matching with explanations. (Being built: see issue 10.)
