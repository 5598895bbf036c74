//! Finding and reading the MRZ band of a document photo: wide text lines are recognised, the
//! text normalised to the MRZ alphabet, consecutive lines grouped into a TD1/TD2/TD3/visa shape,
//! filler runs fitted to the line length, and the group parsed with OCR repair. The photo is
//! tried at the rotation the text boxes and the orientation classifier suggest first, then at
//! the other quarter turns, until the check digits pass.

use image::RgbImage;

use super::det::TextBox;
use super::{OcrEngine, OcrError, rotate};
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

/// Maps recogniser output to the MRZ alphabet: upper case, filler look-alikes to `<`, spaces
/// and other characters dropped.
pub fn normalize(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            'A'..='Z' | '0'..='9' | '<' => Some(c),
            'a'..='z' => Some(c.to_ascii_uppercase()),
            '«' | '‹' | '〈' | 'く' | '≺' | '＜' | '(' | '{' | '[' => Some('<'),
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

impl OcrEngine {
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

    /// Reads the MRZ of a document photo (rectified or raw, at any of the four rotations).
    /// `today` anchors century inference. `Ok(None)` when no MRZ is found.
    pub fn read_mrz(&mut self, img: &RgbImage, today: Date) -> Result<Option<MrzRead>, OcrError> {
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
                let r = rotate(img, rotation);
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
}
