//! Finding and reading the MRZ band of a document photo: one detection pass finds the long text
//! lines, their geometry gives the stacks of parallel lines an MRZ makes and whether they run
//! horizontally or vertically, the orientation classifier orders 0° against 180°, and only those
//! lines are recognised. The text is normalised to the MRZ alphabet, consecutive lines grouped
//! into a TD1/TD2/TD3/visa shape, filler runs fitted to the line length, and the group parsed with
//! OCR repair; the check digits decide. A thorough fallback (detection at every quarter turn)
//! runs only when that reads no MRZ whose check digits pass.

use image::RgbImage;

use super::det::TextBox;
use super::rec::AlignedChar;
use super::{OcrEngine, OcrError, det, mrz_locate, rec, rotate};
use crate::mrz::{Date, Mrz, ParseOptions, parse_lines};

/// Most wide lines recognised per rotation.
const MAX_CANDIDATES: usize = 10;
/// A line box at least this many times wider than high may be an MRZ line.
const MIN_ASPECT: f32 = 7.0;

/// An MRZ read from a photo.
#[derive(Debug, Clone, PartialEq)]
pub struct MrzRead {
    /// Clockwise quarter turns applied to the photo to read it.
    pub rotation: u8,
    /// The recognised text of each line, as read.
    pub raw_lines: Vec<String>,
    /// The lines fitted to the format's length (before parser repair).
    pub lines: Vec<String>,
    /// The parsed MRZ (with repair); its `lines` are the final reading.
    pub mrz: Mrz,
    /// The band's boxes in the rotated photo.
    pub boxes: Vec<TextBox>,
}

/// Maps recogniser output to the MRZ alphabet: upper case, filler look-alikes to `<`, look-alike
/// glyphs of other scripts to their Latin letter or digit, spaces and other characters dropped.
pub fn normalize(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            'A'..='Z' | '0'..='9' | '<' => Some(c),
            'a'..='z' => Some(c.to_ascii_uppercase()),
            '«' | '‹' | '〈' | 'く' | '≺' | '＜' | '(' | '{' | '[' => Some('<'),
            // A closing bracket is how the recogniser sometimes sees an OCR-B `J`.
            ']' => Some('J'),
            // A barred or slashed round glyph is a zero (monospace fonts mark their zeros).
            'θ' | 'Θ' | 'Ø' | 'ø' | '∅' => Some('0'),
            // Greek and Cyrillic capitals that look like Latin ones (the recogniser's character
            // list has them; an MRZ has only Latin letters).
            'Α' | 'А' => Some('A'),
            'Β' | 'В' => Some('B'),
            'С' => Some('C'),
            'Ε' | 'Е' => Some('E'),
            'Η' | 'Н' => Some('H'),
            'Ι' | 'І' => Some('I'),
            'Κ' | 'К' => Some('K'),
            'Μ' | 'М' => Some('M'),
            'Ν' => Some('N'),
            'Ο' | 'О' => Some('O'),
            'Ρ' | 'Р' => Some('P'),
            'Τ' | 'Т' => Some('T'),
            'Χ' | 'Х' => Some('X'),
            'Υ' | 'У' => Some('Y'),
            'Ζ' => Some('Z'),
            _ => None,
        })
        .collect()
}

/// Whether normalised text looks like an MRZ line (trailing fillers are often not detected, so
/// a short line with fillers counts).
fn mrz_like(text: &str) -> bool {
    (text.len() >= 10 && text.contains('<'))
        || (text.len() >= 24 && text.chars().filter(char::is_ascii_digit).count() >= 10)
}

/// Merges boxes on the same text row separated by a small gap (the detector often splits an
/// MRZ line at a long run of fillers).
pub fn merge_rows(boxes: &[TextBox]) -> Vec<TextBox> {
    let mut sorted = boxes.to_vec();
    sorted.sort_by(|a, b| a.x0.total_cmp(&b.x0));
    let mut out: Vec<TextBox> = Vec::new();
    for b in sorted {
        let target = out.iter_mut().find(|m| {
            let overlap = m.y1.min(b.y1) - m.y0.max(b.y0);
            let h = m.height().min(b.height());
            overlap >= 0.5 * h && b.x0 - m.x1 < 1.5 * m.height().max(b.height()) && b.x0 >= m.x0
        });
        match target {
            Some(m) => {
                m.x1 = m.x1.max(b.x1);
                m.y0 = m.y0.min(b.y0);
                m.y1 = m.y1.max(b.y1);
                m.score = m.score.min(b.score);
            }
            None => out.push(b),
        }
    }
    out
}

/// Fits a line to `len` characters by growing or shrinking its longest filler run (or the end).
pub fn fit(line: &str, len: usize) -> String {
    let mut b: Vec<u8> = line.bytes().collect();
    while b.len() != len {
        // Longest run of '<' (start, length); prefer the last one on ties.
        let (mut best, mut best_len, mut i) = (None, 0usize, 0usize);
        while i < b.len() {
            if b.get(i) == Some(&b'<') {
                let start = i;
                while b.get(i) == Some(&b'<') {
                    i += 1;
                }
                if i - start >= best_len {
                    best = Some(start);
                    best_len = i - start;
                }
            } else {
                i += 1;
            }
        }
        if b.len() < len {
            let at = best.map_or(b.len(), |s| s + best_len);
            b.insert(at, b'<');
        } else {
            match best {
                Some(s) if best_len >= 2 => {
                    b.remove(s);
                }
                _ => b.truncate(len),
            }
        }
    }
    b.into_iter().map(char::from).collect()
}

fn score(m: &Mrz) -> (usize, usize) {
    let pass = m.checks.iter().filter(|c| c.pass).count();
    (pass, usize::from(m.is_valid()))
}

/// Tries every run of 2 or 3 consecutive MRZ-like lines; returns the best parse.
fn assemble(lines: &[(TextBox, String)], today: Date) -> Option<(Vec<String>, Mrz, Vec<TextBox>)> {
    let mut best: Option<(Vec<String>, Mrz, Vec<TextBox>)> = None;
    for n in [3usize, 2] {
        for window in lines.windows(n) {
            let lens: Vec<usize> = window.iter().map(|(_, t)| t.len()).collect();
            let longest = lens.iter().copied().max().unwrap_or(0);
            // The length closest to the longest line first: on a tie in score it wins (a TD2
            // padded to 44 characters would also pass as a TD3 with an empty personal number).
            let targets: &[usize] = if n == 3 {
                &[30]
            } else if longest.abs_diff(36) <= longest.abs_diff(44) {
                &[36, 44]
            } else {
                &[44, 36]
            };
            for &target in targets {
                // Skip shapes far from this length.
                if longest + 8 < target || longest > target + 8 {
                    continue;
                }
                let fitted: Vec<String> = window.iter().map(|(_, t)| fit(t, target)).collect();
                let Ok(m) = parse_lines(&fitted, ParseOptions::with_repair(today)) else { continue };
                let better = match &best {
                    None => true,
                    Some((_, b, _)) => score(&m) > score(b),
                };
                if better {
                    best = Some((fitted, m, window.iter().map(|(b, _)| *b).collect()));
                }
            }
        }
    }
    best
}

/// Rotations to try: the one the boxes suggest first.
fn rotation_order(boxes: &[TextBox], upside_down: bool) -> [u8; 4] {
    let wide: f32 = boxes.iter().filter(|b| b.width() > 3.0 * b.height()).map(|b| b.width() * b.height()).sum();
    let tall: f32 = boxes.iter().filter(|b| b.height() > 3.0 * b.width()).map(|b| b.width() * b.height()).sum();
    match (tall > wide, upside_down) {
        (true, _) => [1, 3, 0, 2],
        (false, true) => [2, 0, 1, 3],
        (false, false) => [0, 2, 1, 3],
    }
}

/// Longest side of the detector input when looking for the MRZ (a multiple of 32): MRZ
/// characters are large, and a smaller input keeps the single detection pass cheap.
pub const MRZ_DET_SIDE: u32 = 640;
/// Margin (in line heights) of the crop a line that seems to miss a character is read again from.
const REREAD_MARGIN: f32 = 0.2;
/// Default of [`OcrEngine::set_mrz_locator_growth`]: a located MRZ line's crop may be up to
/// 45 % taller so that it fills a narrower recogniser input (on a 1000-px TD3 photo the two lines
/// go from width 1280 to 960; the sweep of the sample photos reads the same valid MRZs).
pub const LOCATOR_MAX_GROWTH: f32 = 1.45;
/// Most candidate bands recognised by the fast path of [`OcrEngine::read_mrz`].
const MAX_BANDS: usize = 3;
/// Below this probability of being upside down (orientation classifier), a band read upright
/// with no MRZ-like line is not read upside down too.
const CONFIDENT_UPRIGHT: f32 = 0.1;
/// The lines of an MRZ band have the same number of characters at the same pitch: the shortest
/// line of a candidate band is at least this share of the longest.
const BAND_SIMILARITY: f32 = 0.8;

/// A box in the frame of the image (`w`×`h`) turned clockwise by `turns` quarter turns (the
/// frame [`rotate`] produces).
pub fn rotate_box(b: &TextBox, w: f32, h: f32, turns: u8) -> TextBox {
    let score = b.score;
    match turns % 4 {
        1 => TextBox { x0: h - b.y1, y0: b.x0, x1: h - b.y0, y1: b.x1, score },
        2 => TextBox { x0: w - b.x1, y0: h - b.y1, x1: w - b.x0, y1: h - b.y0, score },
        3 => TextBox { x0: b.y0, y0: w - b.x1, x1: b.y1, y1: w - b.x0, score },
        _ => *b,
    }
}

/// Whether `b` can be the MRZ line after `a` (top to bottom): similar height, overlapping
/// horizontally, at most three line heights further down.
fn continues(a: &TextBox, b: &TextBox) -> bool {
    let (ha, hb) = (a.height().max(1.0), b.height().max(1.0));
    let similar = ha.max(hb) / ha.min(hb) <= 1.8;
    let overlap = a.x1.min(b.x1) - a.x0.max(b.x0);
    let aligned = overlap >= 0.5 * a.width().min(b.width());
    let pitch = b.y0 - a.y0;
    similar && aligned && pitch > 0.5 * ha.min(hb) && pitch <= 3.0 * ha.max(hb)
}

/// Groups long lines (sorted top to bottom) into stacks of parallel neighbours, top to bottom.
fn stacks(lines: &[TextBox]) -> Vec<Vec<TextBox>> {
    let mut out: Vec<Vec<TextBox>> = Vec::new();
    for b in lines {
        match out.iter_mut().find(|s| s.last().is_some_and(|last| continues(last, b))) {
            Some(s) => s.push(*b),
            None => out.push(vec![*b]),
        }
    }
    out
}

/// Candidate MRZ bands among the long lines (top to bottom) of a frame `frame_h` pixels high:
/// runs of 3 or 2 consecutive stacked lines of similar length ([`BAND_SIMILARITY`]), the most
/// MRZ-like first — the longest lines, nearest the top or bottom edge (an MRZ is the outermost
/// text block, at the bottom or, upside down, at the top). A run of three similar lines stands
/// for its two-line parts (a TD1 is read whole).
fn bands(lines: &[TextBox], frame_h: f32) -> Vec<Vec<TextBox>> {
    let mut scored: Vec<(f32, Vec<TextBox>)> = Vec::new();
    for stack in stacks(lines) {
        let mut covered: Vec<usize> = Vec::new();
        for n in [3usize, 2] {
            for (start, window) in stack.windows(n).enumerate() {
                let widths = window.iter().map(TextBox::width);
                let shortest = widths.clone().fold(f32::INFINITY, f32::min);
                let longest = widths.fold(0.0f32, f32::max);
                if shortest < BAND_SIMILARITY * longest {
                    continue;
                }
                if n == 2 && covered.contains(&start) {
                    continue;
                }
                if n == 3 {
                    covered.extend([start, start + 1]);
                }
                let (Some(first), Some(last)) = (window.first(), window.last()) else { continue };
                // 0 at the top or bottom edge, 1 in the middle of the frame.
                let edge = (2.0 * first.y0.min(frame_h - last.y1) / frame_h.max(1.0)).clamp(0.0, 1.0);
                scored.push((shortest * (1.0 - 0.5 * edge), window.to_vec()));
            }
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().map(|(_, w)| w).collect()
}

/// Assembles recognised lines (top to bottom) into the best MRZ read at `rotation`.
fn read_band(lines: &[(TextBox, String, String)], rotation: u8, today: Date) -> Option<MrzRead> {
    let normalized: Vec<(TextBox, String)> = lines.iter().map(|(b, _, n)| (*b, n.clone())).collect();
    let (fitted, mrz, band) = assemble(&normalized, today)?;
    let raw_lines = lines.iter().filter(|(b, _, _)| band.contains(b)).map(|(_, t, _)| t.clone()).collect();
    Some(MrzRead { rotation, raw_lines, lines: fitted, mrz, boxes: band })
}

/// Whether a recognised line seems to have lost a character that is not a filler: MRZ
/// characters have one pitch, so a blank stretch of at least one and a half pitches (the median
/// distance between consecutive characters' first time steps) after a character, next to a
/// character that is not `<`, is a dropped character. (The recogniser merges runs of `<`, which
/// the filler fitting restores; those gaps are ignored.)
pub fn dropped_character(chars: &[AlignedChar]) -> bool {
    let pairs = || {
        chars.windows(2).filter_map(|w| match w {
            [a, b] => Some((a, b)),
            _ => None,
        })
    };
    let mut pitches: Vec<usize> = pairs().map(|(a, b)| b.steps.0.saturating_sub(a.steps.0)).collect();
    if pitches.len() < 8 {
        return false;
    }
    pitches.sort_unstable();
    let pitch = pitches.get(pitches.len() / 2).copied().unwrap_or(0) as f32;
    pairs().any(|(a, b)| (a.ch != '<' || b.ch != '<') && b.steps.0.saturating_sub(a.steps.1) as f32 > 1.5 * pitch)
}

/// What the fast path found.
struct FastRead {
    /// The best read (valid or not).
    best: Option<MrzRead>,
    /// Whether the detector found any text.
    saw_text: bool,
    /// Whether a line of the best read still seems to miss a character ([`dropped_character`]).
    suspect: bool,
}

impl OcrEngine {
    /// Reads the MRZ of a document photo (rectified or raw, at any of the four rotations).
    /// `today` anchors century inference. `Ok(None)` when no MRZ is found.
    ///
    /// First try (unless [`OcrEngine::set_mrz_locator`] turned it off): the classical band
    /// locator ([`mrz_locate::long_lines`]) finds the long horizontal lines without the text
    /// detector, and the most MRZ-like band is recognised; a read whose check digits pass and
    /// whose lines all look complete is the answer.
    ///
    /// Otherwise the detector path: one detection pass at most [`MRZ_DET_SIDE`] pixels (a second one at the
    /// detector's full size when a large photo shows no band); the long text lines, in the photo's
    /// frame or turned a quarter (vertical lines), give candidate bands by geometry (2–3 long,
    /// parallel lines of similar length, outermost first); the orientation classifier orders 0°
    /// against 180°; only a band's lines are recognised, until the check digits pass. When no
    /// candidate reads an MRZ whose check digits pass, [`OcrEngine::read_mrz_thorough`] runs and
    /// the better read wins (unless the detector found no text at all).
    pub fn read_mrz(&mut self, img: &RgbImage, today: Date) -> Result<Option<MrzRead>, OcrError> {
        let mut best: Option<MrzRead> = None;
        if self.mrz_locator {
            let located = self.read_mrz_located(img, today)?;
            if let Some(c) = located.best {
                if c.mrz.is_valid() && !located.suspect {
                    return Ok(Some(c));
                }
                best = Some(c);
            }
        }
        let mut saw_text = false;
        let first = self.mrz_det_side;
        // A second, finer detection pass in a large photo (a document small in the frame).
        let second = (img.width().max(img.height()) as f32 > 1.25 * first as f32).then_some(det::MAX_SIDE);
        for side in std::iter::once(first).chain(second) {
            let fast = self.read_mrz_fast(img, side, today)?;
            saw_text |= fast.saw_text;
            if let Some(c) = fast.best {
                if c.mrz.is_valid() && !fast.suspect {
                    return Ok(Some(c));
                }
                if c.mrz.is_valid() {
                    // Valid, but a line seems to miss a character (names have no check digit):
                    // the thorough read decides when it is valid too.
                    return match self.read_mrz_thorough(img, today)? {
                        Some(thorough) if thorough.mrz.is_valid() => Ok(Some(thorough)),
                        _ => Ok(Some(c)),
                    };
                }
                if best.as_ref().is_none_or(|b| score(&c.mrz) > score(&b.mrz)) {
                    best = Some(c);
                }
            }
        }
        if saw_text
            && let Some(thorough) = self.read_mrz_thorough(img, today)?
            && best.as_ref().is_none_or(|b| score(&thorough.mrz) > score(&b.mrz))
        {
            best = Some(thorough);
        }
        Ok(best)
    }

    /// Turns the classical band locator of [`OcrEngine::read_mrz`] on or off (on by default). On,
    /// a read first tries the band the locator finds, without the text detector (about half the
    /// time of the detector path on a clean 1000-px photo), and falls back to the detector when
    /// its check digits fail or a line seems to miss a character. Off, every read starts with
    /// the detector.
    pub fn set_mrz_locator(&mut self, on: bool) {
        self.mrz_locator = on;
    }

    /// The detector-free first try of [`OcrEngine::read_mrz`]: the long horizontal lines the
    /// classical locator ([`mrz_locate::long_lines`]) finds give the candidate bands, and the
    /// most MRZ-like one is read like a band the detector found (its crops grown to a narrower
    /// recogniser input when [`OcrEngine::set_mrz_locator_growth`] allows it).
    fn read_mrz_located(&mut self, img: &RgbImage, today: Date) -> Result<FastRead, OcrError> {
        let t = self.tick();
        let lines = mrz_locate::long_lines(img);
        self.timings.add("locate: long lines", t);
        let (w, h) = (img.width() as f32, img.height() as f32);
        let mut fast = FastRead { best: None, saw_text: !lines.is_empty(), suspect: false };
        if let Some(band) = bands(&lines, h).into_iter().next() {
            let growth = self.mrz_locator_growth;
            let band: Vec<TextBox> = band
                .iter()
                .map(|b| {
                    mrz_locate::fit_to_width(b, img.width(), img.height(), rec::HEIGHT, &rec::WIDTH_BUCKETS, growth)
                })
                .collect();
            self.read_candidate(img, &band, 0, (w, h), today, &mut fast)?;
        }
        Ok(fast)
    }

    /// Sets how much taller than the located line (at most) the crop the recogniser reads may be
    /// made so that it fits a narrower recogniser input ([`mrz_locate::fit_to_width`]); 1 keeps
    /// the located boxes as they are. Default [`LOCATOR_MAX_GROWTH`].
    pub fn set_mrz_locator_growth(&mut self, max_growth: f32) {
        self.mrz_locator_growth = if max_growth.is_finite() { max_growth.clamp(1.0, 2.0) } else { 1.0 };
    }

    /// Sets the longest side of the detector input of [`OcrEngine::read_mrz`]'s first pass
    /// (rounded to a multiple of 32 within 256..=960; default [`MRZ_DET_SIDE`]).
    pub fn set_mrz_detector_side(&mut self, side: u32) {
        self.mrz_det_side = (side.clamp(256, det::MAX_SIDE) / 32) * 32;
    }

    /// One detection pass at `side`, then the candidate bands, until one reads an MRZ whose
    /// check digits pass.
    fn read_mrz_fast(&mut self, img: &RgbImage, side: u32, today: Date) -> Result<FastRead, OcrError> {
        let boxes = self.detect_within(img, side)?;
        let (w, h) = (img.width() as f32, img.height() as f32);
        let wide_area: f32 =
            boxes.iter().filter(|b| b.width() >= 3.0 * b.height()).map(|b| b.width() * b.height()).sum();
        let tall_area: f32 =
            boxes.iter().filter(|b| b.height() >= 3.0 * b.width()).map(|b| b.width() * b.height()).sum();
        let families: [u8; 2] = if tall_area > wide_area { [1, 0] } else { [0, 1] };
        let mut fast = FastRead { best: None, saw_text: !boxes.is_empty(), suspect: false };
        let mut tried = 0usize;
        for base in families {
            // The lines in the frame of the photo turned by `base` quarter turns.
            let (fw, fh) = if base == 1 { (h, w) } else { (w, h) };
            let turned: Vec<TextBox> = boxes.iter().map(|b| rotate_box(b, w, h, base)).collect();
            let mut lines: Vec<TextBox> =
                merge_rows(&turned).into_iter().filter(|b| b.width() >= MIN_ASPECT * b.height()).collect();
            lines.sort_by(|a, b| a.y0.total_cmp(&b.y0));
            let candidates = bands(&lines, fh);
            if candidates.is_empty() {
                continue;
            }
            let t = self.tick();
            let view = if base == 0 { None } else { Some(rotate(img, base)) };
            self.timings.add("rotate image", t);
            let view = view.as_ref().unwrap_or(img);
            for band in candidates {
                if tried >= MAX_BANDS {
                    return Ok(fast);
                }
                tried += 1;
                if self.read_candidate(view, &band, base, (fw, fh), today, &mut fast)? {
                    return Ok(fast);
                }
            }
        }
        Ok(fast)
    }

    /// Reads one candidate band (its boxes in `view`, the photo turned `base` quarter turns, a
    /// frame `fw`×`fh`): the orientation classifier on its widest line orders `base` against
    /// `base + 2`, and the band's lines are recognised at each until the check digits pass.
    /// Keeps the best read in `fast`; returns whether it is valid.
    fn read_candidate(
        &mut self,
        view: &RgbImage,
        band: &[TextBox],
        base: u8,
        (fw, fh): (f32, f32),
        today: Date,
        fast: &mut FastRead,
    ) -> Result<bool, OcrError> {
        let crops: Vec<RgbImage> = band.iter().filter_map(|b| Self::crop(view, b)).collect();
        if crops.len() != band.len() {
            return Ok(false);
        }
        let widest =
            band.iter().enumerate().max_by(|a, b| a.1.width().total_cmp(&b.1.width())).and_then(|(i, _)| crops.get(i));
        let p_flipped = match widest {
            Some(c) => self.upside_down(c)?,
            None => 0.5,
        };
        let order = if p_flipped > 0.5 { [base + 2, base] } else { [base, base + 2] };
        for rotation in order {
            let flipped = rotation != base;
            let mut read: Vec<(TextBox, String, String)> = Vec::with_capacity(band.len());
            let mut suspects: Vec<TextBox> = Vec::new();
            for (b, crop) in band.iter().zip(&crops) {
                let (text, suspect) = self.read_mrz_line(view, b, crop, flipped)?;
                let b = if flipped { rotate_box(b, fw, fh, 2) } else { *b };
                if suspect {
                    suspects.push(b);
                }
                let norm = normalize(&text);
                if mrz_like(&norm) {
                    read.push((b, text, norm));
                }
            }
            read.sort_by(|a, b| a.0.y0.total_cmp(&b.0.y0));
            if let Some(c) = read_band(&read, rotation, today) {
                let valid = c.mrz.is_valid();
                let suspect = c.boxes.iter().any(|b| suspects.contains(b));
                if fast.best.as_ref().is_none_or(|b| score(&c.mrz) > score(&b.mrz)) {
                    fast.best = Some(c);
                    fast.suspect = suspect;
                }
                if valid {
                    return Ok(true);
                }
            }
            // Confidently upright text that is not MRZ-like: no need to read it upside down.
            if p_flipped < CONFIDENT_UPRIGHT && read.is_empty() {
                break;
            }
        }
        Ok(false)
    }

    /// Recognises one line of a candidate band (`crop` of box `b` in `view`, turned 180° when
    /// `flipped`): its text, and whether it still seems to miss a character ([`dropped_character`])
    /// after a second read from a crop with a margin.
    fn read_mrz_line(
        &mut self,
        view: &RgbImage,
        b: &TextBox,
        crop: &RgbImage,
        flipped: bool,
    ) -> Result<(String, bool), OcrError> {
        let chars = if flipped { self.recognize_aligned(&rotate(crop, 2))? } else { self.recognize_aligned(crop)? };
        let text = |chars: &[AlignedChar]| chars.iter().map(|c| c.ch).collect::<String>();
        if !dropped_character(&chars) {
            return Ok((text(&chars), false));
        }
        let d = REREAD_MARGIN * b.height();
        let padded = TextBox { x0: b.x0 - d, y0: b.y0 - d, x1: b.x1 + d, y1: b.y1 + d, ..*b };
        let Some(again) = Self::crop(view, &padded) else { return Ok((text(&chars), true)) };
        let again = if flipped { rotate(&again, 2) } else { again };
        let again = self.recognize_aligned(&again)?;
        // The second read counts only when it has no gap and more characters besides fillers
        // (a wider crop can also lose characters without leaving a gap).
        let letters = |chars: &[AlignedChar]| normalize(&text(chars)).chars().filter(|&c| c != '<').count();
        Ok(if !dropped_character(&again) && letters(&again) > letters(&chars) {
            (text(&again), false)
        } else {
            (text(&chars), true)
        })
    }

    /// The wide, MRZ-like lines of an upright image, top to bottom.
    fn mrz_lines(&mut self, img: &RgbImage, boxes: &[TextBox]) -> Result<Vec<(TextBox, String, String)>, OcrError> {
        let merged = merge_rows(boxes);
        let mut wide: Vec<TextBox> = merged.iter().filter(|b| b.width() >= MIN_ASPECT * b.height()).copied().collect();
        // The MRZ sits at the bottom: recognise from the bottom up.
        wide.sort_by(|a, b| b.y1.total_cmp(&a.y1));
        wide.truncate(MAX_CANDIDATES);
        let mut out = Vec::new();
        for b in wide {
            let Some(crop) = Self::crop(img, &b) else { continue };
            let (text, _) = self.recognize(&crop)?;
            let norm = normalize(&text);
            if mrz_like(&norm) {
                out.push((b, text, norm));
            }
        }
        out.sort_by(|a, b| a.0.y0.total_cmp(&b.0.y0));
        Ok(out)
    }

    /// Reads the MRZ the slow, thorough way: text detection at full resolution at each quarter
    /// turn in turn (the one the boxes suggest first) and up to ten wide lines recognised per turn,
    /// until the check digits pass. [`OcrEngine::read_mrz`] falls back to it when its fast path
    /// read no MRZ whose check digits pass, or one whose line seems to miss a character.
    pub fn read_mrz_thorough(&mut self, img: &RgbImage, today: Date) -> Result<Option<MrzRead>, OcrError> {
        let boxes = self.detect(img)?;
        let upside_down = match boxes
            .iter()
            .filter(|b| b.width() >= MIN_ASPECT * b.height())
            .max_by(|a, b| (a.width() * a.height()).total_cmp(&(b.width() * b.height())))
        {
            Some(b) => match Self::crop(img, b) {
                Some(crop) => self.upside_down(&crop)? > 0.5,
                None => false,
            },
            None => false,
        };
        let mut best: Option<MrzRead> = None;
        for rotation in rotation_order(&boxes, upside_down) {
            let (rotated, rboxes) = if rotation == 0 {
                (None, boxes.clone())
            } else {
                let t = self.tick();
                let r = rotate(img, rotation);
                self.timings.add("rotate image", t);
                let b = self.detect(&r)?;
                (Some(r), b)
            };
            let view = rotated.as_ref().unwrap_or(img);
            let lines = self.mrz_lines(view, &rboxes)?;
            let normalized: Vec<(TextBox, String)> = lines.iter().map(|(b, _, n)| (*b, n.clone())).collect();
            if let Some((fitted, mrz, band)) = assemble(&normalized, today) {
                let raw_lines = lines.iter().filter(|(b, _, _)| band.contains(b)).map(|(_, t, _)| t.clone()).collect();
                let valid = mrz.is_valid();
                let candidate = MrzRead { rotation, raw_lines, lines: fitted, mrz, boxes: band };
                let better = match &best {
                    None => true,
                    Some(b) => score(&candidate.mrz) > score(&b.mrz),
                };
                if better {
                    best = Some(candidate);
                }
                if valid {
                    break;
                }
            }
        }
        Ok(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_and_fitting() {
        assert_eq!(normalize("P<UTO erikSSON«<ANNA"), "P<UTOERIKSSON<<ANNA");
        assert_eq!(normalize("TESTER<<]ANE"), "TESTER<<JANE");
        // A slashed zero read as a Greek theta; Cyrillic and Greek look-alike capitals.
        assert_eq!(normalize("3101012<<<<θ"), "3101012<<<<0");
        assert_eq!(normalize("ΡΑΝΕΤ<МАРИ"), "PANET<MAP");
        assert_eq!(fit("AB<<<<CD<<", 8), "AB<<CD<<");
        assert_eq!(fit("AB<CD", 7), "AB<<<CD");
        assert_eq!(fit("ABCDEFG", 5), "ABCDE");
        assert_eq!(fit("AB", 4), "AB<<");
        assert_eq!(fit("L898902C36UTO7408122F1204159ZE184226B<<<<<<<10", 44).len(), 44);
        assert!(mrz_like("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<"));
        assert!(!mrz_like("PASSPORT"));
        let a = TextBox { x0: 0.0, y0: 0.0, x1: 100.0, y1: 20.0, score: 0.9 };
        let b = TextBox { x0: 110.0, y0: 2.0, x1: 200.0, y1: 21.0, score: 0.8 };
        let c = TextBox { x0: 0.0, y0: 40.0, x1: 100.0, y1: 60.0, score: 0.9 };
        let m = merge_rows(&[b, c, a]);
        assert_eq!(m.len(), 2);
        assert!(m.iter().any(|x| x.x0 == 0.0 && x.x1 == 200.0 && x.y0 == 0.0));
    }

    #[test]
    fn rotation_hint() {
        let tall = TextBox { x0: 0.0, y0: 0.0, x1: 10.0, y1: 200.0, score: 0.9 };
        let wide = TextBox { x0: 0.0, y0: 0.0, x1: 200.0, y1: 10.0, score: 0.9 };
        assert_eq!(rotation_order(&[tall], false)[0], 1);
        assert_eq!(rotation_order(&[wide], false)[0], 0);
        assert_eq!(rotation_order(&[wide], true)[0], 2);
    }

    #[test]
    fn boxes_follow_the_image_rotation() {
        // A 100x50 image with a box near its top-left corner.
        let b = TextBox { x0: 10.0, y0: 5.0, x1: 40.0, y1: 15.0, score: 1.0 };
        let img = RgbImage::from_fn(100, 50, |x, y| {
            let inside = (10..40).contains(&x) && (5..15).contains(&y);
            image::Rgb(if inside { [255, 0, 0] } else { [0, 0, 0] })
        });
        for turns in 0..4u8 {
            let r = rotate_box(&b, 100.0, 50.0, turns);
            let turned = rotate(&img, turns);
            // Every pixel inside the turned box is red, and the box has the same area.
            for y in r.y0 as u32..r.y1 as u32 {
                for x in r.x0 as u32..r.x1 as u32 {
                    assert_eq!(turned.get_pixel(x, y).0, [255, 0, 0], "turns {turns} at {x},{y}");
                }
            }
            assert!((r.width() * r.height() - 300.0).abs() < 1e-3);
            // Four quarter turns are the identity.
            let back = rotate_box(&r, turned.width() as f32, turned.height() as f32, 4 - turns);
            assert_eq!(back, b);
        }
    }

    #[test]
    fn stacks_group_parallel_lines() {
        let line = |y: f32, x1: f32, h: f32| TextBox { x0: 20.0, y0: y, x1, y1: y + h, score: 0.9 };
        // A visual-zone line, then a two-line MRZ, and a stray line far below.
        let lines =
            [line(10.0, 300.0, 12.0), line(100.0, 900.0, 30.0), line(145.0, 905.0, 30.0), line(400.0, 500.0, 30.0)];
        let s = stacks(&lines);
        assert_eq!(s[1], vec![lines[1], lines[2]], "{s:?}");
        assert_eq!(s.len(), 3);
        // A line of a very different height does not continue a stack.
        assert!(!continues(&lines[0], &line(30.0, 300.0, 40.0)));
    }

    /// Characters at a pitch of four steps, each one step long; `gaps` lists the indices before
    /// which one character's worth of steps is left empty, and `<` runs may span several steps.
    fn aligned(text: &str, gaps: &[usize]) -> Vec<AlignedChar> {
        let mut t = 0usize;
        let mut out = Vec::new();
        for (i, ch) in text.chars().enumerate() {
            if gaps.contains(&i) {
                t += 4;
            }
            out.push(AlignedChar { ch, steps: (t, t + 1), confidence: 0.9 });
            t += 4;
        }
        out
    }

    #[test]
    fn dropped_characters_are_seen_by_their_gap() {
        assert!(!dropped_character(&aligned("P<CHETESTER<<JANE<MARIE<<<<", &[])));
        // "TESTER<<ANE": the J's place is empty.
        assert!(dropped_character(&aligned("P<CHETESTER<<ANE<MARIE<<<<", &[13])));
        // A gap between two fillers is a merged filler run, which fitting restores.
        assert!(!dropped_character(&aligned("P<CHETESTER<<JANE<MARIE<<<<", &[25])));
        // A filler run read as one long `<` leaves no gap after it.
        let mut merged = aligned("P<CHETESTER<JANE<MARIE", &[]);
        for c in merged.iter_mut().skip(11) {
            c.steps = (c.steps.0 + 4, c.steps.1 + 4);
        }
        if let Some(run) = merged.get_mut(11) {
            run.steps = (run.steps.0 - 4, run.steps.1);
        }
        assert!(!dropped_character(&merged));
        // Too short to tell.
        assert!(!dropped_character(&aligned("ABC", &[2])));
    }

    #[test]
    fn bands_pick_long_similar_outer_lines() {
        let line = |y: f32, x1: f32| TextBox { x0: 20.0, y0: y, x1, y1: y + 30.0, score: 0.9 };
        // Visual-zone lines of varied length above a two-line MRZ at the bottom of a 700-px frame.
        let lines =
            [line(300.0, 500.0), line(345.0, 760.0), line(390.0, 420.0), line(600.0, 900.0), line(645.0, 905.0)];
        let b = bands(&lines, 700.0);
        assert_eq!(b.first(), Some(&vec![lines[3], lines[4]]), "{b:?}");
        // Lines of different lengths are no band.
        assert!(b.iter().all(|w| !w.contains(&lines[2])), "{b:?}");
        // Three similar lines (a TD1) are one band, not two two-line ones.
        let td1 = [line(500.0, 700.0), line(545.0, 705.0), line(590.0, 698.0)];
        assert_eq!(bands(&td1, 700.0), vec![td1.to_vec()]);
        // Upside down, the band is at the top, and still first.
        let flipped: Vec<TextBox> = lines.iter().rev().map(|b| rotate_box(b, 1000.0, 700.0, 2)).collect();
        let b = bands(&flipped, 700.0);
        assert_eq!(b.first().map(Vec::len), Some(2));
        assert!(b.first().is_some_and(|w| w.iter().all(|l| l.width() >= 880.0)), "{b:?}");
    }
}
