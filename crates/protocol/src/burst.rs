//! The selfie liveness burst: how a selfie capture carries a short burst of frames and the client's
//! liveness report, so the verifier can recompute liveness from the images.
//!
//! A `selfie` capture lists its images in this order: first the selfie itself (any name, conventionally
//! `selfie`; the face match uses it), then the burst frames `selfie_frame_0`, `selfie_frame_1`, … in capture
//! order, at most [`MAX_BURST_FRAMES`], each a JPEG or PNG of the same size. The client's liveness report
//! travels in the signed `quality` map (so the one signature covers it):
//!
//! | key | value |
//! |---|---|
//! | `liveness.v` | [`BURST_FORMAT_VERSION`] |
//! | `liveness.frames` | number of burst frames `n` (must equal the `selfie_frame_*` parts) |
//! | `liveness.score` | the client's combined liveness score, `0..=1` |
//! | `liveness.t.<k>` | timestamp of frame `k` in milliseconds, any origin, non-decreasing, `k < n` |
//! | `liveness.attack.<signal>` | optional: the client's attack likelihood of one signal, `0..=1` |
//!
//! [`SelfieBurst::from_manifest`] reads and checks this; [`crate::Manifest::validate`] calls it, so an upload
//! with a half-formed burst is refused at intake (`manifest_invalid`). A selfie without any of it (an older
//! SDK) is still valid: the verifier's liveness check then says it has no burst.

use std::collections::BTreeMap;

use crate::error::{ErrorCode, ProtocolError};
use crate::manifest::{Manifest, Step};

/// Most burst frames a selfie capture may carry.
pub const MAX_BURST_FRAMES: usize = 8;
/// The part-name prefix of burst frames (`selfie_frame_0` …).
pub const FRAME_PART_PREFIX: &str = "selfie_frame_";
/// The prefix of the liveness entries of the `quality` map.
pub const LIVENESS_PREFIX: &str = "liveness.";
/// The version of this layout (`liveness.v`).
pub const BURST_FORMAT_VERSION: f64 = 1.0;
/// Longest span a burst may cover, milliseconds.
pub const MAX_BURST_SPAN_MS: f64 = 10_000.0;

/// The part name of burst frame `k`.
pub fn frame_part_name(k: usize) -> String {
    format!("{FRAME_PART_PREFIX}{k}")
}

/// The burst of a selfie capture, as the signed manifest describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct SelfieBurst {
    /// Index in `manifest.images` of each burst frame, in frame order.
    pub frame_images: Vec<usize>,
    /// Timestamp of each frame, milliseconds.
    pub timestamps_ms: Vec<f64>,
    /// The client's combined liveness score.
    pub client_score: f64,
    /// The client's per-signal attack likelihoods.
    pub client_signals: BTreeMap<String, f64>,
}

fn invalid(detail: impl Into<String>) -> ProtocolError {
    ProtocolError::new(ErrorCode::ManifestInvalid, detail)
}

fn unit(v: f64) -> bool {
    (0.0..=1.0).contains(&v)
}

impl SelfieBurst {
    /// The burst of `manifest`: `Ok(None)` when it carries none (no `selfie_frame_*` part and no `liveness.*`
    /// entry), an error when it carries a malformed one (outside a selfie step, frames out of order or
    /// missing, counts or timestamps that do not fit).
    pub fn from_manifest(manifest: &Manifest) -> Result<Option<Self>, ProtocolError> {
        let frame_parts: Vec<(usize, &str)> = manifest
            .images
            .iter()
            .enumerate()
            .filter_map(|(i, img)| img.name.strip_prefix(FRAME_PART_PREFIX).map(|k| (i, k)))
            .collect();
        let entries: BTreeMap<&str, f64> = manifest
            .quality
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(LIVENESS_PREFIX).map(|rest| (rest, *v)))
            .collect();
        if frame_parts.is_empty() && entries.is_empty() {
            return Ok(None);
        }
        if manifest.step != Step::Selfie {
            return Err(invalid("a liveness burst belongs to a selfie capture"));
        }
        if entries.get("v") != Some(&BURST_FORMAT_VERSION) {
            return Err(invalid("liveness.v must be 1"));
        }
        let n = frame_parts.len();
        if n == 0 || n > MAX_BURST_FRAMES {
            return Err(invalid(format!("a burst has 1 to {MAX_BURST_FRAMES} selfie_frame_* parts")));
        }
        if entries.get("frames") != Some(&(n as f64)) {
            return Err(invalid("liveness.frames must equal the number of selfie_frame_* parts"));
        }
        let first = frame_parts.first().map_or(0, |p| p.0);
        if first == 0 {
            return Err(invalid("the selfie image comes before its burst frames"));
        }
        for (k, (i, suffix)) in frame_parts.iter().enumerate() {
            if *i != first + k || *suffix != k.to_string() {
                return Err(invalid("burst frames must be selfie_frame_0, selfie_frame_1, … in order, last"));
            }
        }
        if first + n != manifest.images.len() {
            return Err(invalid("burst frames must be the last images"));
        }
        let (w, h) = (manifest.images[first].width, manifest.images[first].height);
        if manifest.images[first..].iter().any(|img| img.width != w || img.height != h) {
            return Err(invalid("burst frames must all have the same size"));
        }
        let client_score = *entries.get("score").ok_or_else(|| invalid("liveness.score is missing"))?;
        if !unit(client_score) {
            return Err(invalid("liveness.score must be within 0..=1"));
        }
        let mut timestamps_ms = Vec::with_capacity(n);
        for k in 0..n {
            let t = *entries.get(format!("t.{k}").as_str()).ok_or_else(|| invalid("a liveness.t.<k> is missing"))?;
            if timestamps_ms.last().is_some_and(|&prev: &f64| t < prev) {
                return Err(invalid("liveness timestamps must not decrease"));
            }
            timestamps_ms.push(t);
        }
        if timestamps_ms.last().zip(timestamps_ms.first()).is_some_and(|(l, f)| l - f > MAX_BURST_SPAN_MS) {
            return Err(invalid("a burst spans at most 10 s"));
        }
        let mut client_signals = BTreeMap::new();
        for (key, v) in &entries {
            match *key {
                "v" | "frames" | "score" => {}
                k if k.starts_with("t.") => {
                    let index_ok = k[2..].parse::<usize>().is_ok_and(|i| i < n && k[2..] == i.to_string());
                    if !index_ok {
                        return Err(invalid("a liveness.t.<k> names no frame"));
                    }
                }
                k => match k.strip_prefix("attack.") {
                    Some(signal) if !signal.is_empty() && unit(*v) => {
                        client_signals.insert(signal.to_owned(), *v);
                    }
                    _ => return Err(invalid("unknown liveness entry, or an attack likelihood outside 0..=1")),
                },
            }
        }
        Ok(Some(SelfieBurst {
            frame_images: (first..first + n).collect(),
            timestamps_ms,
            client_score,
            client_signals,
        }))
    }

    /// The `quality` entries describing a burst of `timestamps_ms` with the client's score and signals (what
    /// an SDK adds to its draft).
    pub fn quality_entries(
        timestamps_ms: &[f64],
        client_score: f64,
        client_signals: &[(&str, f64)],
    ) -> BTreeMap<String, f64> {
        let mut q = BTreeMap::from([
            ("liveness.v".to_owned(), BURST_FORMAT_VERSION),
            ("liveness.frames".to_owned(), timestamps_ms.len() as f64),
            ("liveness.score".to_owned(), client_score),
        ]);
        for (k, t) in timestamps_ms.iter().enumerate() {
            q.insert(format!("liveness.t.{k}"), *t);
        }
        for (name, v) in client_signals {
            q.insert(format!("liveness.attack.{name}"), *v);
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::ImageEntry;

    fn image(name: &str) -> ImageEntry {
        ImageEntry {
            name: name.into(),
            content_type: "image/jpeg".into(),
            width: 640,
            height: 480,
            byte_len: 3,
            sha256: crate::digest::sha256_hex(b"abc"),
        }
    }

    fn selfie(frames: usize) -> Manifest {
        let mut m = crate::manifest::tests::sample();
        m.step = Step::Selfie;
        m.images = vec![image("selfie")];
        m.images.extend((0..frames).map(|k| image(&frame_part_name(k))));
        let ts: Vec<f64> = (0..frames).map(|k| 1000.0 + 120.5 * k as f64).collect();
        m.quality.extend(SelfieBurst::quality_entries(&ts, 0.82, &[("planar_motion", 0.1)]));
        m
    }

    #[test]
    fn a_well_formed_burst_is_read_back() {
        let m = selfie(8);
        m.validate().unwrap();
        let b = SelfieBurst::from_manifest(&m).unwrap().unwrap();
        assert_eq!(b.frame_images, (1..=8).collect::<Vec<_>>());
        assert_eq!(b.timestamps_ms[7], 1000.0 + 120.5 * 7.0);
        assert_eq!(b.client_score, 0.82);
        assert_eq!(b.client_signals["planar_motion"], 0.1);
        let bytes = m.to_canonical_bytes().unwrap();
        assert_eq!(Manifest::parse(&bytes).unwrap(), m);
    }

    #[test]
    fn a_selfie_without_a_burst_is_fine() {
        let mut m = selfie(0);
        m.quality.retain(|k, _| !k.starts_with(LIVENESS_PREFIX));
        m.validate().unwrap();
        assert_eq!(SelfieBurst::from_manifest(&m).unwrap(), None);
    }

    #[test]
    fn malformed_bursts_are_refused() {
        type Edit = Box<dyn Fn(&mut Manifest)>;
        let cases: Vec<Edit> = vec![
            Box::new(|m| m.step = Step::DocumentFront),
            Box::new(|m| {
                m.quality.insert("liveness.v".into(), 2.0);
            }),
            Box::new(|m| {
                m.quality.insert("liveness.frames".into(), 7.0);
            }),
            Box::new(|m| {
                m.quality.remove("liveness.t.3");
            }),
            Box::new(|m| {
                m.quality.insert("liveness.t.4".into(), 0.0);
            }),
            Box::new(|m| {
                m.quality.insert("liveness.t.9".into(), 5000.0);
            }),
            Box::new(|m| {
                m.quality.insert("liveness.t.7".into(), 60_000.0);
            }),
            Box::new(|m| {
                m.quality.insert("liveness.score".into(), 1.5);
            }),
            Box::new(|m| {
                m.quality.remove("liveness.score");
            }),
            Box::new(|m| {
                m.quality.insert("liveness.attack.flicker".into(), -0.1);
            }),
            Box::new(|m| {
                m.quality.insert("liveness.colour".into(), 0.1);
            }),
            Box::new(|m| m.images.swap(2, 3)),
            Box::new(|m| m.images.swap(0, 1)),
            Box::new(|m| m.images[4].width = 320),
            Box::new(|m| m.images[3].name = "selfie_frame_03".into()),
            Box::new(|m| m.images.push(image("extra"))),
            Box::new(|m| {
                m.images.retain(|i| i.name == "selfie");
            }),
        ];
        for (i, edit) in cases.iter().enumerate() {
            let mut m = selfie(8);
            edit(&mut m);
            let err = SelfieBurst::from_manifest(&m).unwrap_err();
            assert_eq!(err.code, ErrorCode::ManifestInvalid, "case {i}");
            assert_eq!(m.validate().unwrap_err().code, ErrorCode::ManifestInvalid, "case {i}");
        }
        // Nine frames are more than a burst may have.
        let m = selfie(9);
        assert_eq!(SelfieBurst::from_manifest(&m).unwrap_err().code, ErrorCode::ManifestInvalid);
    }
}
