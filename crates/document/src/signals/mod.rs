//! Measuring [`ImageSignals`](crate::checks::ImageSignals) on a document photo: a grey-scale
//! copy (almost no chroma), an editing program in the EXIF `Software` tag, a 64-bit difference
//! hash of the image, the portrait (BlazeFace from `trustcap-vision`), and two tamper signals:
//! screen re-capture ([`recapture`]: moiré peaks in the spectrum) and JPEG compression history
//! that differs between regions ([`jpeg_regions`]: block-grid phase and quantisation step per
//! cell).

pub mod jpeg_regions;
pub mod recapture;

use image::RgbImage;
use image::imageops::FilterType;
use trustcap_vision::face::BlazeFace;
use trustcap_vision::frame::Frame;

use crate::checks::ImageSignals;

/// Programs whose name in the EXIF `Software` tag marks an edited image.
const EDITORS: &[&str] =
    &["photoshop", "gimp", "lightroom", "affinity", "pixelmator", "paint.net", "snapseed", "picsart"];

/// Mean absolute chroma (max − min channel) under which an image counts as grey-scale.
const GREY_CHROMA: f32 = 6.0;

/// Whether the image is (nearly) grey-scale.
pub fn is_greyscale(img: &RgbImage) -> bool {
    let small = image::imageops::resize(img, 128, 128, FilterType::Triangle);
    let sum: f32 = small
        .pixels()
        .map(|p| {
            let [r, g, b] = p.0;
            f32::from(r.max(g).max(b) - r.min(g).min(b))
        })
        .sum();
    sum / (128.0 * 128.0) < GREY_CHROMA
}

/// A 64-bit difference hash (9×8 grey thumbnail, one bit per horizontal neighbour pair).
pub fn dhash(img: &RgbImage) -> u64 {
    let grey = image::imageops::grayscale(img);
    let small = image::imageops::resize(&grey, 9, 8, FilterType::Triangle);
    let mut h = 0u64;
    for y in 0..8 {
        for x in 0..8 {
            let a = small.get_pixel(x, y).0[0];
            let b = small.get_pixel(x + 1, y).0[0];
            h = (h << 1) | u64::from(a > b);
        }
    }
    h
}

/// The EXIF segment (APP1 `Exif\0\0`) of a JPEG, if any; walks the marker segments only.
pub fn exif_segment(jpeg: &[u8]) -> Option<&[u8]> {
    if jpeg.get(..2) != Some(&[0xFF, 0xD8][..]) {
        return None;
    }
    let mut i = 2usize;
    while let (Some(&0xFF), Some(&marker)) = (jpeg.get(i), jpeg.get(i + 1)) {
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([*jpeg.get(i + 2)?, *jpeg.get(i + 3)?]));
        let body = jpeg.get(i + 4..i + 2 + len)?;
        if marker == 0xE1 && body.starts_with(b"Exif\0\0") {
            return Some(body);
        }
        i += 2 + len;
    }
    None
}

/// The editing program named in a JPEG's EXIF data (searched as text, case-insensitive).
pub fn editing_software(jpeg: &[u8]) -> Option<String> {
    let exif = exif_segment(jpeg)?;
    let text: String = exif.iter().map(|&b| char::from(b).to_ascii_lowercase()).collect();
    EDITORS.iter().find(|e| text.contains(*e)).map(|e| e.to_string())
}

/// Measures every signal; `face` runs the portrait check when given (score ≥ `min_face`).
pub fn analyze(
    bytes: &[u8],
    img: &RgbImage,
    face: Option<&mut BlazeFace>,
    min_face: f32,
) -> Result<ImageSignals, trustcap_vision::face::FaceModelError> {
    let portrait_found = match face {
        Some(model) => {
            let rgba: Vec<u8> = img.pixels().flat_map(|p| [p.0[0], p.0[1], p.0[2], 255]).collect();
            match Frame::packed(&rgba, img.width(), img.height()) {
                Ok(frame) => Some(model.best_score(&frame)? >= min_face),
                Err(_) => None,
            }
        }
        None => None,
    };
    Ok(ImageSignals {
        portrait_found,
        greyscale: Some(is_greyscale(img)),
        editing_software: editing_software(bytes),
        has_exif: exif_segment(bytes).is_some(),
        perceptual_hash: Some(dhash(img)),
        screen_recapture: Some(recapture::measure(img)),
        jpeg_regions: Some(jpeg_regions::measure(bytes, img)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greyscale_and_hash() {
        let grey = RgbImage::from_fn(64, 64, |x, _| image::Rgb([(x * 4) as u8; 3]));
        let colour = RgbImage::from_fn(64, 64, |x, y| image::Rgb([255 - (x * 4) as u8, (y * 4) as u8, 40]));
        assert!(is_greyscale(&grey));
        assert!(!is_greyscale(&colour));
        assert_ne!(dhash(&grey), dhash(&colour));
        assert_eq!(dhash(&grey), dhash(&grey.clone()));
    }

    #[test]
    fn exif_software_tag() {
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
        let body = b"Exif\0\0....Adobe Photoshop 25.0";
        jpeg.extend(((body.len() + 2) as u16).to_be_bytes());
        jpeg.extend_from_slice(body);
        jpeg.extend([0xFF, 0xDA, 0, 2]);
        assert_eq!(editing_software(&jpeg).as_deref(), Some("photoshop"));
        assert!(exif_segment(&[0xFF, 0xD8, 0xFF, 0xE1, 0xFF]).is_none());
        assert!(editing_software(b"not a jpeg").is_none());
    }
}
