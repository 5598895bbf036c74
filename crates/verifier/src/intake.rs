//! Server-side checks of the images of an authenticated upload.
//!
//! The signature proves the SDK sent these bytes; it does not prove they are a sane
//! image. Before anything is stored, each part is:
//!
//! 1. sniffed: its magic bytes must match the declared content type (`image_unsupported`);
//! 2. measured from its header only, without decoding: at most [`MAX_SIDE`] pixels a side
//!    and [`MAX_PIXELS`] in all (`image_too_large`), and exactly the manifest's width and
//!    height (`manifest_invalid`);
//! 3. fully decoded under [`image::Limits`] on a blocking thread (`image_corrupt`);
//! 4. re-analysed for quality on the server ([`server_quality`]).

use std::io::Cursor;

use image::{ImageError, ImageFormat, ImageReader, Limits, RgbaImage};
use serde_json::{Map, Value};
use trustcap_protocol::{ErrorCode, ImageEntry, ProtocolError};
use trustcap_vision::{Frame, FrameError, QualityAnalyzer, QualityReport};

/// Largest width or height accepted by the server.
pub const MAX_SIDE: u32 = trustcap_protocol::manifest::MAX_IMAGE_SIDE;
/// Largest pixel count accepted by the server.
pub const MAX_PIXELS: u64 = trustcap_protocol::manifest::MAX_IMAGE_PIXELS;
/// Most memory a decoder may allocate for one image.
pub const MAX_DECODE_ALLOC: u64 = 256 * 1024 * 1024;

const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
const PNG_MAGIC: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

fn refuse(code: ErrorCode, entry: &ImageEntry, what: &str) -> ProtocolError {
    ProtocolError::new(code, format!("image {}: {what}", entry.name))
}

/// The format the bytes really are, from their magic number.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(JPEG_MAGIC) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(PNG_MAGIC) {
        Some(ImageFormat::Png)
    } else {
        None
    }
}

fn declared_format(content_type: &str) -> Option<ImageFormat> {
    match content_type {
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/png" => Some(ImageFormat::Png),
        _ => None,
    }
}

fn decode_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    limits
}

/// Steps 1 and 2: format and dimensions, from the header only. Cheap; runs for every
/// part before any part is decoded.
pub fn check_header(entry: &ImageEntry, bytes: &[u8]) -> Result<ImageFormat, ProtocolError> {
    let format = sniff(bytes).ok_or_else(|| refuse(ErrorCode::ImageUnsupported, entry, "not a JPEG or PNG image"))?;
    if declared_format(&entry.content_type) != Some(format) {
        return Err(refuse(ErrorCode::ImageUnsupported, entry, "the bytes do not match the declared content type"));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decode_limits());
    let (width, height) = reader.into_dimensions().map_err(|e| match e {
        ImageError::Limits(_) => refuse(ErrorCode::ImageTooLarge, entry, "dimensions exceed the limits"),
        _ => refuse(ErrorCode::ImageCorrupt, entry, "the image header cannot be read"),
    })?;
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(refuse(
            ErrorCode::ImageTooLarge,
            entry,
            &format!("{width}x{height} exceeds {MAX_SIDE} px a side or {MAX_PIXELS} pixels"),
        ));
    }
    if width != entry.width || height != entry.height {
        return Err(refuse(ErrorCode::ManifestInvalid, entry, "dimensions differ from the manifest"));
    }
    Ok(format)
}

/// Step 3: decodes to RGBA under limits. CPU-bound: call it from a blocking thread.
pub fn decode_rgba(entry: &ImageEntry, bytes: &[u8], format: ImageFormat) -> Result<RgbaImage, ProtocolError> {
    if format == ImageFormat::Jpeg && !jpeg_has_end_marker(bytes) {
        return Err(refuse(ErrorCode::ImageCorrupt, entry, "the JPEG is truncated"));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decode_limits());
    let image = reader.decode().map_err(|e| match e {
        ImageError::Limits(_) => refuse(ErrorCode::ImageTooLarge, entry, "decoding exceeds the memory limit"),
        _ => refuse(ErrorCode::ImageCorrupt, entry, "the image cannot be decoded"),
    })?;
    Ok(image.into_rgba8())
}

/// A complete JPEG ends with the EOI marker (`FF D9`), possibly followed by padding
/// zeros. The JPEG decoder fills a truncated scan with grey instead of failing, so a
/// cut-off upload is caught here.
fn jpeg_has_end_marker(bytes: &[u8]) -> bool {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    bytes[..end].ends_with(&[0xFF, 0xD9])
}

/// Step 4: the server-side quality re-run on decoded pixels with `trustcap-vision`, as a
/// JSON object: every metric of [`QualityReport::metrics`] by name, plus `"guidance"`
/// (stable string) and `"acceptable"` (boolean).
///
/// The server judges the image it stored, independent of what the SDK reported in the
/// manifest's `quality` map.
pub fn server_quality(image: &RgbaImage) -> Result<Value, FrameError> {
    let frame = Frame::packed(image.as_raw(), image.width(), image.height())?;
    let report: QualityReport = QualityAnalyzer::new().analyze(&frame);
    let mut out = Map::new();
    for (name, value) in report.metrics() {
        // Metrics are finite by construction; a NaN would serialise as null.
        out.insert(name.to_owned(), serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number));
    }
    out.insert("guidance".into(), report.guidance.as_str().into());
    out.insert("acceptable".into(), report.acceptable.into());
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(content_type: &str, width: u32, height: u32) -> ImageEntry {
        ImageEntry {
            name: "document_front".into(),
            content_type: content_type.into(),
            width,
            height,
            byte_len: 1,
            sha256: "0".repeat(64),
        }
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        RgbaImage::new(width, height).write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn sniffing_and_declared_type() {
        let bytes = png(4, 3);
        assert_eq!(sniff(&bytes), Some(ImageFormat::Png));
        assert_eq!(check_header(&entry("image/png", 4, 3), &bytes).unwrap(), ImageFormat::Png);
        assert_eq!(check_header(&entry("image/jpeg", 4, 3), &bytes).unwrap_err().code, ErrorCode::ImageUnsupported);
        assert_eq!(check_header(&entry("image/png", 5, 3), &bytes).unwrap_err().code, ErrorCode::ManifestInvalid);
        assert_eq!(check_header(&entry("image/png", 4, 3), b"GIF89a").unwrap_err().code, ErrorCode::ImageUnsupported);
    }

    #[test]
    fn decode_and_truncation() {
        let bytes = png(4, 3);
        let e = entry("image/png", 4, 3);
        assert_eq!(decode_rgba(&e, &bytes, ImageFormat::Png).unwrap().dimensions(), (4, 3));
        let cut = &bytes[..bytes.len() - 20];
        assert_eq!(decode_rgba(&e, cut, ImageFormat::Png).unwrap_err().code, ErrorCode::ImageCorrupt);
        assert!(jpeg_has_end_marker(&[0xFF, 0xD8, 0xFF, 0xD9, 0, 0]));
        assert!(!jpeg_has_end_marker(&[0xFF, 0xD8, 0xFF, 0x00]));
    }

    #[test]
    fn server_quality_has_metrics_guidance_and_verdict() {
        let image = RgbaImage::from_fn(64, 48, |x, y| image::Rgba([(x * 4) as u8, (y * 5) as u8, 128, 255]));
        let quality = server_quality(&image).unwrap();
        assert!(quality["sharpness"].is_number());
        assert!(quality["guidance"].is_string());
        assert!(quality["acceptable"].is_boolean());
    }
}
