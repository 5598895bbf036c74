//! The case page's side-by-side view: for each document step of the latest round the original
//! camera photo next to the rectified document, then the selfie, each with a text alternative.
//!
//! A document capture carries the rectified document first and, from SDKs that send it, the whole
//! camera frame as [`ORIGINAL_PART`] (see [`trustcap_protocol::document`]). A capture without the
//! original (an older SDK, or no outline found) shows its one image as "Document photo": whether it
//! was rectified is then not known. Every image goes through the tenant-checked image route.

use std::fmt::Write as _;

use trustcap_protocol::document::ORIGINAL_PART;

use crate::console::html::escape;
use crate::db::CaptureRecord;

/// The steps shown, in order, with their human names.
const STEPS: [(&str, &str); 3] =
    [("document_front", "document front"), ("document_back", "document back"), ("selfie", "selfie")];

/// One figure of the view.
struct Figure<'a> {
    capture: &'a CaptureRecord,
    position: usize,
    /// `original`, `rectified`, `document` or `selfie`.
    kind: &'static str,
    title: String,
}

/// The figures of the latest round's captures (the newest capture of each step).
fn figures(captures: &[CaptureRecord]) -> Vec<Figure<'_>> {
    let Some(round) = captures.iter().map(|c| c.round).max() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (step, human) in STEPS {
        let Some(capture) = captures.iter().rev().find(|c| c.round == round && c.step == step) else {
            continue;
        };
        if step == "selfie" {
            if !capture.images.is_empty() {
                out.push(Figure { capture, position: 0, kind: "selfie", title: "Selfie".to_owned() });
            }
            continue;
        }
        match capture.images.iter().position(|i| i.name == ORIGINAL_PART) {
            Some(original) => {
                out.push(Figure {
                    capture,
                    position: original,
                    kind: "original",
                    title: format!("Original photo · {human}"),
                });
                out.push(Figure {
                    capture,
                    position: 0,
                    kind: "rectified",
                    title: format!("Rectified document · {human}"),
                });
            }
            None if !capture.images.is_empty() => {
                out.push(Figure {
                    capture, position: 0, kind: "document", title: format!("Document photo · {human}")
                });
            }
            None => {}
        }
    }
    out
}

fn alt_text(figure: &Figure<'_>, width: i64, height: i64) -> String {
    let what = match figure.kind {
        "original" => "Original camera photo of the",
        "rectified" => "Rectified (cropped and straightened) image of the",
        "document" => "Photo of the",
        _ => "Selfie of the applicant",
    };
    let step = figure.capture.step.replace('_', " ");
    if figure.kind == "selfie" {
        format!("{what}, {width}×{height} pixels")
    } else {
        format!("{what} {step}, {width}×{height} pixels")
    }
}

/// The side-by-side section of the case page of session `sid` (empty when there is nothing to show).
pub fn side_by_side(sid: &str, captures: &[CaptureRecord]) -> String {
    let figures = figures(captures);
    if figures.is_empty() {
        return String::new();
    }
    let mut body = String::from(
        "<section aria-labelledby=\"compare-h\"><h2 id=\"compare-h\">Side by side</h2><div class=\"media\" id=\"compare\">",
    );
    for figure in &figures {
        let Some(image) = figure.capture.images.get(figure.position) else {
            continue;
        };
        let _ = write!(
            body,
            "<figure data-kind=\"{kind}\" data-step=\"{step}\"><img src=\"/console/cases/{sid}/images/{cap}/{position}\" \
             alt=\"{alt}\" width=\"{w}\" height=\"{h}\"><figcaption>{title}</figcaption></figure>",
            kind = figure.kind,
            step = escape(&figure.capture.step),
            sid = escape(sid),
            cap = escape(&figure.capture.id),
            position = figure.position,
            alt = escape(&alt_text(figure, image.width, image.height)),
            w = image.width,
            h = image.height,
            title = escape(&figure.title),
        );
    }
    body.push_str("</div></section>");
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ImageMeta;

    fn image(name: &str) -> ImageMeta {
        ImageMeta {
            name: name.into(),
            content_type: "image/jpeg".into(),
            width: 856,
            height: 540,
            byte_len: 1000,
            sha256: "a".repeat(64),
        }
    }

    fn capture(id: &str, round: i64, step: &str, images: &[&str]) -> CaptureRecord {
        CaptureRecord {
            id: id.into(),
            round,
            step: step.into(),
            received_at: 0,
            key_id: "k".into(),
            client_quality: "{}".into(),
            server_quality: "{}".into(),
            images: images.iter().map(|n| image(n)).collect(),
        }
    }

    #[test]
    fn original_and_rectified_then_the_selfie() {
        let captures = [
            capture("cap_d", 0, "document_front", &["document_front", ORIGINAL_PART]),
            capture("cap_s", 0, "selfie", &["selfie", "selfie_frame_0"]),
        ];
        let html = side_by_side("ses_1", &captures);
        let original = html.find("/images/cap_d/1\" alt=\"Original camera photo of the document front").unwrap();
        let rectified = html.find("/images/cap_d/0\" alt=\"Rectified (cropped and straightened) image").unwrap();
        let selfie = html.find("/images/cap_s/0\" alt=\"Selfie of the applicant").unwrap();
        assert!(original < rectified && rectified < selfie, "{html}");
        assert!(html.contains("<figcaption>Original photo · document front</figcaption>"));
        assert!(html.contains("<figcaption>Rectified document · document front</figcaption>"));
        assert!(!html.contains("selfie_frame"), "burst frames stay in the full list");
        assert_eq!(html.matches("<img").count(), 3);
    }

    #[test]
    fn a_single_part_document_is_a_document_photo_and_only_the_latest_round_counts() {
        let captures = [
            capture("cap_old", 0, "document_front", &["document_front", ORIGINAL_PART]),
            capture("cap_new", 1, "document_front", &["document_front"]),
        ];
        let html = side_by_side("ses_1", &captures);
        assert_eq!(html.matches("<img").count(), 1, "{html}");
        assert!(html.contains("/images/cap_new/0\" alt=\"Photo of the document front"));
        assert!(html.contains("<figcaption>Document photo · document front</figcaption>"));
        assert_eq!(side_by_side("ses_1", &[]), "");
    }

    #[test]
    fn values_are_escaped() {
        let captures = [capture("cap_\"<x>", 0, "document_front", &["document_front"])];
        let html = side_by_side("ses_\"1", &captures);
        assert!(!html.contains("cap_\"<x>") && !html.contains("ses_\"1"), "{html}");
    }
}
