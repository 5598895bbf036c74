//! OCR of document photos with PP-OCRv4 (detection, recognition) and the PP-OCR orientation
//! classifier, run through tract: text lines of a photo, and the MRZ band at any of the four
//! rotations.

pub mod det;
pub mod model;
pub mod mrz_band;
pub mod mrz_locate;
pub mod rec;

use std::path::{Path, PathBuf};

use image::RgbImage;
use image::imageops::FilterType;
use thiserror::Error;

use self::det::TextBox;
use self::model::ShapeCachedModel;

/// File names in the model folder.
pub const DET_MODEL: &str = "ppocrv4_det.onnx";
/// Recogniser file name.
pub const REC_MODEL: &str = "ppocrv4_rec.onnx";
/// Orientation classifier file name.
pub const CLS_MODEL: &str = "ppocr_mobile_v2_cls.onnx";
/// Largest accepted image side.
pub const MAX_IMAGE_SIDE: u32 = 8192;

/// OCR failures.
#[derive(Debug, Error)]
pub enum OcrError {
    /// A model file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A model could not be loaded or run.
    #[error("model: {0}")]
    Model(String),
    /// The recogniser has no character list in its metadata.
    #[error("the recognition model has no character list")]
    NoCharset,
    /// The image could not be decoded.
    #[error("image: {0}")]
    Image(String),
    /// The image is empty or too large.
    #[error("image size {0}x{1} out of range")]
    ImageSize(u32, u32),
}

/// One recognised text line.
#[derive(Debug, Clone, PartialEq)]
pub struct TextLine {
    /// Where it is, in the pixels of the (rotated) image it was read from.
    pub bbox: TextBox,
    /// The text.
    pub text: String,
    /// Mean character confidence.
    pub confidence: f32,
}

/// The PP-OCR models.
#[derive(Debug)]
pub struct OcrEngine {
    det: ShapeCachedModel,
    rec: ShapeCachedModel,
    cls: ShapeCachedModel,
    charset: Vec<char>,
    timings: StageTimings,
    mrz_det_side: u32,
    mrz_locator: bool,
    mrz_locator_growth: f32,
}

/// Time spent per OCR stage since the last [`OcrEngine::take_timings`], in milliseconds of the
/// clock set with [`OcrEngine::set_stage_clock`] (wall-clock by default).
#[derive(Debug, Clone, Default)]
pub struct StageTimings {
    /// (stage name, milliseconds, calls), in first-use order.
    pub stages: Vec<(&'static str, f64, usize)>,
    clock: Option<fn() -> f64>,
}

impl StageTimings {
    fn now(&self) -> f64 {
        match self.clock {
            Some(f) => f(),
            None => wall_ms(),
        }
    }

    fn add(&mut self, stage: &'static str, since: f64) {
        let ms = self.now() - since;
        match self.stages.iter_mut().find(|(s, _, _)| *s == stage) {
            Some(e) => {
                e.1 += ms;
                e.2 += 1;
            }
            None => self.stages.push((stage, ms, 1)),
        }
    }
}

/// Milliseconds since the first call in this process.
fn wall_ms() -> f64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_secs_f64() * 1e3
}

fn read(dir: &Path, name: &str) -> Result<Vec<u8>, OcrError> {
    let path = dir.join(name);
    std::fs::read(&path).map_err(|source| OcrError::Io { path, source })
}

/// Decodes an image file's bytes (JPEG or PNG) into RGB, within [`MAX_IMAGE_SIDE`].
pub fn decode_image(bytes: &[u8]) -> Result<RgbImage, OcrError> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| OcrError::Image(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| OcrError::Image(e.to_string()))?.to_rgb8();
    if img.width() == 0 || img.height() == 0 {
        return Err(OcrError::ImageSize(img.width(), img.height()));
    }
    Ok(img)
}

/// Rotates an image clockwise by `quarter_turns` × 90°.
pub fn rotate(img: &RgbImage, quarter_turns: u8) -> RgbImage {
    match quarter_turns % 4 {
        1 => image::imageops::rotate90(img),
        2 => image::imageops::rotate180(img),
        3 => image::imageops::rotate270(img),
        _ => img.clone(),
    }
}

impl OcrEngine {
    /// Loads the three models from a model folder (see
    /// `trustcap_vision::model_cache::default_model_dir`).
    pub fn from_dir(dir: &Path) -> Result<Self, OcrError> {
        Self::from_bytes(&read(dir, DET_MODEL)?, &read(dir, REC_MODEL)?, &read(dir, CLS_MODEL)?)
    }

    /// Loads the models from their ONNX bytes.
    pub fn from_bytes(det: &[u8], rec: &[u8], cls: &[u8]) -> Result<Self, OcrError> {
        // One plan per recogniser width bucket: warm reads never re-plan.
        let rec = ShapeCachedModel::from_bytes_keeping(rec, rec::WIDTH_BUCKETS.len())?;
        let charset = rec::charset(rec.metadata("character").ok_or(OcrError::NoCharset)?);
        Ok(Self {
            det: ShapeCachedModel::from_bytes(det)?,
            rec,
            cls: ShapeCachedModel::from_bytes(cls)?,
            charset,
            timings: StageTimings::default(),
            mrz_det_side: mrz_band::MRZ_DET_SIDE,
            mrz_locator: true,
            mrz_locator_growth: mrz_band::LOCATOR_MAX_GROWTH,
        })
    }

    /// Sets the clock the stage timings use (milliseconds from any origin, e.g. the thread's
    /// CPU time); the default is wall-clock time.
    pub fn set_stage_clock(&mut self, clock: fn() -> f64) {
        self.timings.clock = Some(clock);
    }

    /// The time spent per stage since the last call, and resets it.
    pub fn take_timings(&mut self) -> Vec<(&'static str, f64, usize)> {
        std::mem::take(&mut self.timings.stages)
    }

    fn tick(&self) -> f64 {
        self.timings.now()
    }

    /// Text boxes of an image, top to bottom.
    pub fn detect(&mut self, img: &RgbImage) -> Result<Vec<TextBox>, OcrError> {
        self.detect_within(img, det::MAX_SIDE)
    }

    /// Text boxes of an image seen by the detector at most `max_side` pixels long (fewer pixels,
    /// faster, for larger text), top to bottom, in image pixels.
    pub fn detect_within(&mut self, img: &RgbImage, max_side: u32) -> Result<Vec<TextBox>, OcrError> {
        let t = self.tick();
        let (shape, data, scale) = det::preprocess_within(img, max_side);
        self.timings.add("det: resize + normalise", t);
        let t = self.tick();
        let built = self.det.plans_built();
        let (out_shape, prob) = self.det.run(shape, data)?;
        self.timings.add(if self.det.plans_built() > built { "det: plan build + model" } else { "det: model" }, t);
        let t = self.tick();
        let (h, w) = match out_shape.as_slice() {
            [.., h, w] => (*h, *w),
            _ => return Err(OcrError::Model(format!("detector output shape {out_shape:?}"))),
        };
        let mut boxes = det::boxes(&prob, w, h, scale);
        boxes.sort_by(|a, b| a.y0.total_cmp(&b.y0));
        self.timings.add("det: boxes", t);
        Ok(boxes)
    }

    /// Crops a box (clamped to the image).
    pub fn crop(img: &RgbImage, b: &TextBox) -> Option<RgbImage> {
        let x0 = b.x0.max(0.0) as u32;
        let y0 = b.y0.max(0.0) as u32;
        let x1 = (b.x1.ceil() as u32).min(img.width());
        let y1 = (b.y1.ceil() as u32).min(img.height());
        (x1 > x0 + 2 && y1 > y0 + 2).then(|| image::imageops::crop_imm(img, x0, y0, x1 - x0, y1 - y0).to_image())
    }

    /// Recognises the text of one line crop.
    pub fn recognize(&mut self, crop: &RgbImage) -> Result<(String, f32), OcrError> {
        self.recognize_one(crop)
    }

    /// Recognises several line crops: text and mean confidence per crop, in order. Each crop is
    /// its own batch-1 model run (tract runs the recogniser several times slower per line with a
    /// larger batch).
    pub fn recognize_batch(&mut self, crops: &[RgbImage]) -> Result<Vec<(String, f32)>, OcrError> {
        crops.iter().map(|c| self.recognize_one(c)).collect()
    }

    fn recognize_one(&mut self, crop: &RgbImage) -> Result<(String, f32), OcrError> {
        let chars = self.recognize_aligned(crop)?;
        let conf = chars.iter().map(|c| c.confidence).sum::<f32>() / chars.len().max(1) as f32;
        Ok((chars.iter().map(|c| c.ch).collect(), conf))
    }

    /// Recognises the text of one line crop, with each character's time steps.
    pub fn recognize_aligned(&mut self, crop: &RgbImage) -> Result<Vec<rec::AlignedChar>, OcrError> {
        let t = self.tick();
        let (shape, data) = rec::preprocess(crop);
        self.timings.add("rec: resize + normalise", t);
        let t = self.tick();
        let built = self.rec.plans_built();
        let (out_shape, scores) = self.rec.run(shape, data)?;
        self.timings.add(if self.rec.plans_built() > built { "rec: plan build + model" } else { "rec: model" }, t);
        let classes = out_shape.last().copied().unwrap_or(0);
        if classes != self.charset.len() + 1 {
            return Err(OcrError::Model(format!("recogniser has {classes} classes, charset {}", self.charset.len())));
        }
        Ok(rec::ctc_decode_aligned(&scores, classes, &self.charset))
    }

    /// Probability that a line crop is upside down (the orientation classifier's 180° class).
    pub fn upside_down(&mut self, crop: &RgbImage) -> Result<f32, OcrError> {
        let t = self.tick();
        let (w, h) = crop.dimensions();
        let tw = ((w as f32 * 48.0 / h.max(1) as f32).ceil() as u32).clamp(4, 192);
        let resized = image::imageops::resize(crop, tw, 48, FilterType::Triangle);
        let plane = 48 * 192;
        let mut data = vec![0f32; 3 * plane];
        for (x, y, p) in resized.enumerate_pixels() {
            let i = (y * 192 + x) as usize;
            for c in 0..3 {
                if let Some(slot) = data.get_mut(c * plane + i) {
                    *slot = f32::from(p.0[2 - c]) / 127.5 - 1.0;
                }
            }
        }
        let (_, out) = self.cls.run([1, 3, 48, 192], data)?;
        self.timings.add("cls: all", t);
        Ok(out.get(1).copied().unwrap_or(0.0))
    }

    /// Every text line of an upright image, top to bottom.
    pub fn read_lines(&mut self, img: &RgbImage) -> Result<Vec<TextLine>, OcrError> {
        let boxes = self.detect(img)?;
        let mut out = Vec::with_capacity(boxes.len());
        for b in boxes {
            if let Some(crop) = Self::crop(img, &b) {
                let (text, confidence) = self.recognize(&crop)?;
                if !text.trim().is_empty() {
                    out.push(TextLine { bbox: b, text, confidence });
                }
            }
        }
        Ok(out)
    }
}
