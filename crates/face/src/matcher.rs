//! Selfie-to-document face match with quality gating.
//!
//! For each image: BlazeFace detection (the 128 front model, plus the 256 full-range model only
//! when the 128 model finds no face wide enough, e.g. a document portrait or a distant selfie),
//! the largest confident face chosen, its keypoints refined by a second detection on a crop
//! around it when the face is small in the photo (a small portrait is enlarged to the model
//! size), alignment to a 150×150 chip, quality checks, then the dlib embedding. A pair that
//! fails a check gets reason codes instead of a score. [`FaceMatcher::detector_runs`] counts the
//! detections, which are most of a match's cost besides the two embeddings.

use std::path::Path;

use image::RgbImage;
use trustcap_vision::Frame;
use trustcap_vision::face::{BlazeFace, BlazeFaceVariant, Detection, FaceModelError, Keypoint, Point};

use crate::align::align;
use crate::calibration::{Calibration, Fmr};
use crate::embed::{EmbedError, Embedding, FaceEmbedder};
use crate::quality::chip_sharpness;

/// Why matching could not run at all (model problems; bad photos give reason codes instead).
#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    /// BlazeFace failed to load or run.
    #[error("face detector: {0}")]
    Detector(#[from] FaceModelError),
    /// The embedding model failed to load or run.
    #[error("face embedder: {0}")]
    Embedder(#[from] EmbedError),
}

/// Which photo of the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The live selfie.
    Selfie,
    /// The document portrait (a photo of the document).
    Document,
}

/// A quality problem that prevents a reliable comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No face found.
    NoFace,
    /// Another face of comparable size is present.
    MultipleFaces,
    /// The face is too small (eye distance below the minimum).
    FaceTooSmall,
    /// The aligned face is too blurred.
    FaceTooBlurred,
}

/// A reason tied to the photo it concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ReasonCode {
    /// The photo.
    pub role: Role,
    /// The problem.
    pub reason: Reason,
}

impl ReasonCode {
    /// Stable code such as `selfie_no_face` or `document_face_too_small`.
    pub fn code(&self) -> &'static str {
        match (self.role, self.reason) {
            (Role::Selfie, Reason::NoFace) => "selfie_no_face",
            (Role::Selfie, Reason::MultipleFaces) => "selfie_multiple_faces",
            (Role::Selfie, Reason::FaceTooSmall) => "selfie_face_too_small",
            (Role::Selfie, Reason::FaceTooBlurred) => "selfie_face_too_blurred",
            (Role::Document, Reason::NoFace) => "document_no_face",
            (Role::Document, Reason::MultipleFaces) => "document_multiple_faces",
            (Role::Document, Reason::FaceTooSmall) => "document_face_too_small",
            (Role::Document, Reason::FaceTooBlurred) => "document_face_too_blurred",
        }
    }
}

/// Matcher settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MatchConfig {
    /// False-match rate of the decision.
    pub fmr: Fmr,
    /// Distance calibration.
    pub calibration: Calibration,
    /// Minimum BlazeFace score of the face that is compared.
    pub min_detection_score: f32,
    /// Minimum BlazeFace score of another face for [`Reason::MultipleFaces`] (higher than
    /// `min_detection_score`: a weak second candidate is more often texture than a face).
    pub min_other_face_score: f32,
    /// Minimum distance between the eye centres, in source pixels.
    pub min_eye_distance_px: f32,
    /// Minimum chip sharpness ([`chip_sharpness`]).
    pub min_sharpness: f32,
    /// A second face counts when its box is at least this fraction of the main face's width
    /// (a document's small ghost portrait stays below it).
    pub multiple_face_ratio: f32,
    /// The 256 full-range model runs as well when the 128 front model finds no confident face
    /// (score at least `min_other_face_score`) at least this wide, as a fraction of the photo's
    /// longer side (a document portrait, a distant
    /// selfie). 0 never runs it; above 1 always does.
    pub full_range_below: f32,
    /// The keypoints of the chosen face are refined by a second detection on a crop around it
    /// when the face is narrower than this fraction of the photo's longer side; a larger face
    /// already fills enough of the model input. 0 never refines; above 1 always does.
    pub refine_below: f32,
}

impl Default for MatchConfig {
    fn default() -> Self {
        MatchConfig {
            fmr: Fmr::default(),
            calibration: Calibration::DEFAULT,
            min_detection_score: 0.6,
            min_other_face_score: 0.75,
            min_eye_distance_px: 16.0,
            min_sharpness: 4.0,
            multiple_face_ratio: 0.6,
            full_range_below: 0.15,
            refine_below: 0.3,
        }
    }
}

/// What was found in one photo.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceAnalysis {
    /// Faces above the score threshold, after merging (best first).
    pub faces: usize,
    /// The face used, in source pixels.
    pub detection: Option<Detection>,
    /// Eye distance of that face in source pixels.
    pub eye_distance_px: f32,
    /// Sharpness of the chip.
    pub sharpness: f32,
    /// The 150×150 aligned chip (for reviewers).
    pub chip: Option<RgbImage>,
    /// Quality problems.
    pub reasons: Vec<Reason>,
    /// The embedding of the chip (also computed when a check failed; only a pair without
    /// reasons gets a [`Score`]).
    pub embedding: Option<Embedding>,
}

/// Match or not at the configured FMR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Same person at the configured FMR.
    Match,
    /// Not the same person at the configured FMR.
    NoMatch,
}

/// A scored comparison.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Score {
    /// Euclidean embedding distance.
    pub distance: f32,
    /// Calibrated similarity in [0, 1].
    pub similarity: f32,
    /// Decision at the configured FMR.
    pub decision: Decision,
    /// The distance threshold used.
    pub threshold: f32,
    /// The FMR of the decision.
    pub fmr: f64,
}

/// The result of a selfie-to-document comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchReport {
    /// The score, or `None` when quality gating failed (see `reasons`).
    pub score: Option<Score>,
    /// Quality problems of either photo.
    pub reasons: Vec<ReasonCode>,
    /// Embedding model version.
    pub model_version: String,
    /// The selfie analysis (with its chip).
    pub selfie: FaceAnalysis,
    /// The document analysis (with its chip).
    pub document: FaceAnalysis,
}

/// Encodes a chip as PNG (for storage; the verifier encrypts it like other images).
pub fn chip_png(chip: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut out = std::io::Cursor::new(Vec::new());
    chip.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

/// Detectors and embedder, loaded once.
pub struct FaceMatcher {
    front: BlazeFace,
    back: BlazeFace,
    embedder: FaceEmbedder,
    config: MatchConfig,
    runs: DetectorRuns,
}

/// How many times each BlazeFace model has run since the matcher was loaded (for profiling).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DetectorRuns {
    /// Runs of the 128 front model (whole photos and refinement crops).
    pub front128: u64,
    /// Runs of the 256 full-range model.
    pub back256: u64,
}

impl std::fmt::Debug for FaceMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceMatcher").field("model", &self.embedder.version()).field("config", &self.config).finish()
    }
}

fn distance(a: Point, b: Point) -> f32 {
    (a.x - b.x).hypot(a.y - b.y)
}

/// A square crop (clamped to the frame) as a view of the frame, with its origin.
fn crop<'a>(frame: &Frame<'a>, cx: f32, cy: f32, side: f32) -> Option<(Frame<'a>, u32, u32)> {
    let (fw, fh) = (frame.width() as f32, frame.height() as f32);
    let x0 = (cx - side / 2.0).floor().clamp(0.0, fw);
    let y0 = (cy - side / 2.0).floor().clamp(0.0, fh);
    let x1 = (cx + side / 2.0).ceil().clamp(0.0, fw);
    let y1 = (cy + side / 2.0).ceil().clamp(0.0, fh);
    if x1 - x0 < 8.0 || y1 - y0 < 8.0 || (x1 - x0).is_nan() || (y1 - y0).is_nan() {
        return None;
    }
    let (x0, y0, x1, y1) = (x0 as u32, y0 as u32, x1 as u32, y1 as u32);
    Some((frame.crop(x0, y0, x1 - x0, y1 - y0)?, x0, y0))
}

fn offset(d: &Detection, dx: f32, dy: f32) -> Detection {
    let mut out = *d;
    out.bbox.x_min += dx;
    out.bbox.x_max += dx;
    out.bbox.y_min += dy;
    out.bbox.y_max += dy;
    for k in &mut out.keypoints {
        k.x += dx;
        k.y += dy;
    }
    out
}

impl FaceMatcher {
    /// Loads both BlazeFace models and the dlib model from a model folder
    /// (see `trustcap_vision::model_cache::default_model_dir`), with the default settings.
    pub fn from_dir(dir: &Path) -> Result<Self, FaceError> {
        Self::with_config(dir, MatchConfig::default())
    }

    /// Loads the models with explicit settings.
    pub fn with_config(dir: &Path, config: MatchConfig) -> Result<Self, FaceError> {
        let mut front = BlazeFace::from_dir(dir, BlazeFaceVariant::Front128)?;
        let mut back = BlazeFace::from_dir(dir, BlazeFaceVariant::Back256)?;
        front.set_min_score(config.min_detection_score);
        back.set_min_score(config.min_detection_score);
        let embedder = FaceEmbedder::from_dir(dir)?;
        Ok(FaceMatcher { front, back, embedder, config, runs: DetectorRuns::default() })
    }

    /// The settings.
    pub fn config(&self) -> &MatchConfig {
        &self.config
    }

    /// The embedding model's version string.
    pub fn model_version(&self) -> &str {
        self.embedder.version()
    }

    /// The embedder.
    pub fn embedder(&self) -> &FaceEmbedder {
        &self.embedder
    }

    /// Detector runs so far (profiling: how many detections a match costs).
    pub fn detector_runs(&self) -> DetectorRuns {
        self.runs
    }

    /// Faces in a photo, best first. The 128 front model runs first (cheap, precise on faces
    /// that fill the photo); the 256 full-range model (about five times the cost) runs as well
    /// when it finds no confident face at least [`MatchConfig::full_range_below`] of the
    /// photo's longer side wide (a document portrait, a distant selfie), and overlapping boxes of
    /// the two are merged. The same path serves both roles, so the same photo always gives the
    /// same chip.
    pub fn detect(&mut self, frame: &Frame<'_>, _role: Role) -> Result<Vec<Detection>, FaceError> {
        let mut found = self.front.detect(frame)?;
        self.runs.front128 += 1;
        let side = frame.width().max(frame.height()) as f32;
        // Only a confident face counts: a weak 128 box can be two small faces merged, or the
        // wrong size, where the 256 model sees better.
        let largest = found
            .iter()
            .filter(|d| d.score >= self.config.min_other_face_score)
            .map(|d| d.bbox.width())
            .fold(0.0f32, f32::max);
        if largest >= self.config.full_range_below * side {
            return Ok(found);
        }
        self.runs.back256 += 1;
        for d in self.back.detect(frame)? {
            match found.iter_mut().find(|f| f.bbox.iou(&d.bbox) > 0.3) {
                Some(same) if same.score < d.score => *same = d,
                Some(_) => {}
                None => found.push(d),
            }
        }
        found.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(found)
    }

    /// Re-detects a face on a crop around it (enlarged to the model size when small) for
    /// more precise keypoints; keeps the original when the crop finds nothing overlapping, or
    /// when the face is at least [`MatchConfig::refine_below`] of the photo's longer side (it
    /// already fills enough of the model input).
    fn refine(&mut self, frame: &Frame<'_>, face: &Detection) -> Result<Detection, FaceError> {
        let longer = frame.width().max(frame.height()) as f32;
        if face.bbox.width() >= self.config.refine_below * longer {
            return Ok(*face);
        }
        let c = face.bbox.centre();
        let side = 2.0 * face.bbox.width().max(face.bbox.height());
        let Some((crop_frame, x0, y0)) = crop(frame, c.x, c.y, side) else { return Ok(*face) };
        let found = self.front.detect(&crop_frame)?;
        self.runs.front128 += 1;
        let best = found
            .iter()
            .map(|d| offset(d, x0 as f32, y0 as f32))
            .filter(|d| d.bbox.iou(&face.bbox) > 0.3)
            .max_by(|a, b| a.score.total_cmp(&b.score));
        Ok(best.unwrap_or(*face))
    }

    /// Detects, aligns, checks and embeds the face of one photo.
    pub fn analyze(&mut self, frame: &Frame<'_>, role: Role) -> Result<FaceAnalysis, FaceError> {
        let faces = self.detect(frame, role)?;
        let mut analysis = FaceAnalysis {
            faces: faces.len(),
            detection: None,
            eye_distance_px: 0.0,
            sharpness: 0.0,
            chip: None,
            reasons: Vec::new(),
            embedding: None,
        };
        // The largest confident face; the largest of any when none is confident.
        let confident = faces.iter().any(|d| d.score >= self.config.min_other_face_score);
        let main = faces
            .iter()
            .copied()
            .filter(|d| !confident || d.score >= self.config.min_other_face_score)
            .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()));
        let Some(main) = main else {
            analysis.reasons.push(Reason::NoFace);
            return Ok(analysis);
        };
        let main_width = main.bbox.width();
        let others = faces
            .iter()
            .filter(|d| **d != main)
            .filter(|d| d.score >= self.config.min_other_face_score)
            .filter(|d| d.bbox.width() >= self.config.multiple_face_ratio * main_width)
            .count();
        if others > 0 {
            analysis.reasons.push(Reason::MultipleFaces);
        }
        let face = self.refine(frame, &main)?;
        analysis.detection = Some(face);
        analysis.eye_distance_px = distance(face.keypoint(Keypoint::RightEye), face.keypoint(Keypoint::LeftEye));
        if analysis.eye_distance_px.is_nan() || analysis.eye_distance_px < self.config.min_eye_distance_px {
            analysis.reasons.push(Reason::FaceTooSmall);
        }
        let Some((chip, _)) = align(frame, &face) else {
            analysis.reasons.push(Reason::FaceTooSmall);
            return Ok(analysis);
        };
        analysis.sharpness = chip_sharpness(&chip);
        if analysis.sharpness.is_nan() || analysis.sharpness < self.config.min_sharpness {
            analysis.reasons.push(Reason::FaceTooBlurred);
        }
        // Embedded even when a check failed: reviewers and evaluations can still see the distance.
        analysis.embedding = Some(self.embedder.embed(&chip)?);
        analysis.chip = Some(chip);
        Ok(analysis)
    }

    /// The score for two embeddings at the configured FMR.
    pub fn score(&self, a: &Embedding, b: &Embedding) -> Score {
        let d = a.distance(b);
        let threshold = self.config.calibration.threshold(self.config.fmr);
        Score {
            distance: d,
            similarity: self.config.calibration.score(f64::from(d)) as f32,
            decision: if f64::from(d) <= threshold { Decision::Match } else { Decision::NoMatch },
            threshold: threshold as f32,
            fmr: self.config.fmr.get(),
        }
    }

    /// Compares a selfie with a document photo.
    pub fn match_faces(&mut self, selfie: &Frame<'_>, document: &Frame<'_>) -> Result<MatchReport, FaceError> {
        let selfie = self.analyze(selfie, Role::Selfie)?;
        let document = self.analyze(document, Role::Document)?;
        let reasons: Vec<ReasonCode> = selfie
            .reasons
            .iter()
            .map(|&reason| ReasonCode { role: Role::Selfie, reason })
            .chain(document.reasons.iter().map(|&reason| ReasonCode { role: Role::Document, reason }))
            .collect();
        let score = match (&selfie.embedding, &document.embedding) {
            (Some(a), Some(b)) if reasons.is_empty() => Some(self.score(a, b)),
            _ => None,
        };
        Ok(MatchReport { score, reasons, model_version: self.embedder.version().to_string(), selfie, document })
    }

    /// Like [`FaceMatcher::match_faces`] for decoded RGB images.
    pub fn match_images(
        &mut self,
        selfie: &image::RgbImage,
        document: &image::RgbImage,
    ) -> Result<MatchReport, FaceError> {
        let (a, b) = (rgba(selfie), rgba(document));
        let fa = Frame::packed(&a, selfie.width(), selfie.height()).map_err(|e| frame_error(&e))?;
        let fb = Frame::packed(&b, document.width(), document.height()).map_err(|e| frame_error(&e))?;
        self.match_faces(&fa, &fb)
    }
}

fn frame_error(e: &trustcap_vision::FrameError) -> FaceError {
    FaceError::Detector(FaceModelError::Model(format!("bad image: {e}")))
}

/// Packed RGBA bytes of an RGB image (for [`Frame::packed`]).
pub fn rgba(image: &image::RgbImage) -> Vec<u8> {
    let rgb = image.as_raw();
    let mut out = Vec::with_capacity(rgb.len() / 3 * 4);
    for p in rgb.chunks_exact(3) {
        out.extend_from_slice(&[p[0], p[1], p[2], 255]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matcher_can_move_between_threads() {
        fn send<T: Send>() {}
        send::<FaceMatcher>();
        send::<MatchReport>();
    }

    #[test]
    fn reason_codes_are_distinct_and_prefixed_by_role() {
        let reasons = [Reason::NoFace, Reason::MultipleFaces, Reason::FaceTooSmall, Reason::FaceTooBlurred];
        let mut codes = Vec::new();
        for role in [Role::Selfie, Role::Document] {
            for reason in reasons {
                let code = ReasonCode { role, reason }.code();
                let prefix = if role == Role::Selfie { "selfie_" } else { "document_" };
                assert!(code.starts_with(prefix), "{code}");
                codes.push(code);
            }
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 8);
    }

    #[test]
    fn crop_is_clamped_to_the_frame() {
        let rgba = vec![7u8; 20 * 10 * 4];
        let frame = Frame::packed(&rgba, 20, 10).unwrap();
        let (view, x0, y0) = crop(&frame, 18.0, 2.0, 12.0).unwrap();
        assert_eq!((x0, y0, view.width(), view.height()), (12, 0, 8, 8));
        assert_eq!(view.row(7).map(<[u8]>::len), Some(8 * 4));
        assert!(crop(&frame, 100.0, 100.0, 10.0).is_none());
        assert!(crop(&frame, f32::NAN, 2.0, 10.0).is_none());
    }
}
