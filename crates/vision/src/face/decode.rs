//! BlazeFace output decoding: sigmoid scores, boxes and six keypoints relative to the anchors,
//! then weighted non-maximum suppression (overlapping detections averaged by score).
//!
//! Everything here works on plain slices, so it is tested on hand-made tensors without a model.

use super::anchors::Anchor;

/// Values per anchor in a regressor tensor: box centre (2), box size (2), 6 keypoints (12).
pub const REGRESSOR_VALUES: usize = 16;

/// IoU above which two detections are merged by [`weighted_nms`].
pub const NMS_IOU: f32 = 0.3;

/// The six BlazeFace keypoints, in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keypoint {
    /// The subject's right eye (image left on a frontal face).
    RightEye = 0,
    /// The subject's left eye (image right).
    LeftEye = 1,
    /// Nose tip.
    NoseTip = 2,
    /// Mouth centre.
    Mouth = 3,
    /// Right ear tragion (image left).
    RightEar = 4,
    /// Left ear tragion (image right).
    LeftEar = 5,
}

/// A point (x right, y down).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Point {
    /// Horizontal coordinate.
    pub x: f32,
    /// Vertical coordinate.
    pub y: f32,
}

/// An axis-aligned box.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct BoundingBox {
    /// Left edge.
    pub x_min: f32,
    /// Top edge.
    pub y_min: f32,
    /// Right edge.
    pub x_max: f32,
    /// Bottom edge.
    pub y_max: f32,
}

impl BoundingBox {
    /// Width (0 if degenerate).
    pub fn width(&self) -> f32 {
        (self.x_max - self.x_min).max(0.0)
    }

    /// Height (0 if degenerate).
    pub fn height(&self) -> f32 {
        (self.y_max - self.y_min).max(0.0)
    }

    /// Area (0 if degenerate).
    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }

    /// Centre point.
    pub fn centre(&self) -> Point {
        Point { x: 0.5 * (self.x_min + self.x_max), y: 0.5 * (self.y_min + self.y_max) }
    }

    /// Intersection over union (0 when either box is empty).
    pub fn iou(&self, other: &BoundingBox) -> f32 {
        let w = (self.x_max.min(other.x_max) - self.x_min.max(other.x_min)).max(0.0);
        let h = (self.y_max.min(other.y_max) - self.y_min.max(other.y_min)).max(0.0);
        let inter = w * h;
        let union = self.area() + other.area() - inter;
        if union > 0.0 { inter / union } else { 0.0 }
    }
}

/// One detected face: score, box and keypoints (normalised model coordinates after [`decode`],
/// frame pixels after [`super::BlazeFace::detect`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Detection {
    /// Face probability in [0, 1].
    pub score: f32,
    /// Face box.
    pub bbox: BoundingBox,
    /// Keypoints, indexed by [`Keypoint`].
    pub keypoints: [Point; 6],
}

impl Detection {
    /// One keypoint.
    pub fn keypoint(&self, which: Keypoint) -> Point {
        self.keypoints[which as usize]
    }

    /// The same detection with every coordinate multiplied by `scale` (normalised → pixels).
    pub fn scaled(&self, scale: f32) -> Detection {
        let s = |p: Point| Point { x: p.x * scale, y: p.y * scale };
        Detection {
            score: self.score,
            bbox: BoundingBox {
                x_min: self.bbox.x_min * scale,
                y_min: self.bbox.y_min * scale,
                x_max: self.bbox.x_max * scale,
                y_max: self.bbox.y_max * scale,
            },
            keypoints: self.keypoints.map(s),
        }
    }
}

/// Logistic function, with the logit clipped to ±100 as MediaPipe does.
pub fn sigmoid(logit: f32) -> f32 {
    1.0 / (1.0 + (-logit.clamp(-100.0, 100.0)).exp())
}

/// Decodes every anchor whose score reaches `min_score`.
///
/// `scores` holds one logit per anchor and `regressors` [`REGRESSOR_VALUES`] values per anchor,
/// both in anchor order; `input_size` is the model side in pixels (the regressors are in input
/// pixels). Anchors beyond the shorter of the three inputs are ignored; non-finite values are
/// skipped. Coordinates come out normalised to the model input (0..1).
pub fn decode(
    scores: &[f32],
    regressors: &[f32],
    anchors: &[Anchor],
    input_size: f32,
    min_score: f32,
) -> Vec<Detection> {
    let mut out = Vec::new();
    for ((&logit, reg), anchor) in scores.iter().zip(regressors.chunks_exact(REGRESSOR_VALUES)).zip(anchors) {
        let score = sigmoid(logit);
        if score.is_nan() || score < min_score || reg.iter().any(|v| !v.is_finite()) {
            continue;
        }
        let cx = anchor.x + reg[0] / input_size;
        let cy = anchor.y + reg[1] / input_size;
        let (w, h) = (reg[2] / input_size, reg[3] / input_size);
        let bbox = BoundingBox { x_min: cx - w / 2.0, y_min: cy - h / 2.0, x_max: cx + w / 2.0, y_max: cy + h / 2.0 };
        let mut keypoints = [Point::default(); 6];
        for (k, point) in keypoints.iter_mut().enumerate() {
            point.x = anchor.x + reg[4 + 2 * k] / input_size;
            point.y = anchor.y + reg[5 + 2 * k] / input_size;
        }
        out.push(Detection { score, bbox, keypoints });
    }
    out
}

/// Weighted non-maximum suppression (MediaPipe's "weighted" blending).
///
/// Takes the best remaining detection, gathers every remaining one whose IoU with it exceeds
/// `iou_threshold` (itself included), replaces them by their score-weighted average box and
/// keypoints (keeping the best score), and repeats. Output is sorted by score, best first.
pub fn weighted_nms(mut detections: Vec<Detection>, iou_threshold: f32) -> Vec<Detection> {
    detections.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while let Some(&best) = detections.first() {
        let (group, rest): (Vec<Detection>, Vec<Detection>) =
            detections.into_iter().partition(|d| best.bbox.iou(&d.bbox) > iou_threshold || *d == best);
        detections = rest;
        let total: f32 = group.iter().map(|d| d.score).sum();
        if total.is_nan() || total <= 0.0 {
            out.push(best);
            continue;
        }
        let mut merged =
            Detection { score: best.score, bbox: BoundingBox::default(), keypoints: [Point::default(); 6] };
        for d in &group {
            let w = d.score / total;
            merged.bbox.x_min += w * d.bbox.x_min;
            merged.bbox.y_min += w * d.bbox.y_min;
            merged.bbox.x_max += w * d.bbox.x_max;
            merged.bbox.y_max += w * d.bbox.y_max;
            for (m, p) in merged.keypoints.iter_mut().zip(&d.keypoints) {
                m.x += w * p.x;
                m.y += w * p.y;
            }
        }
        out.push(merged);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::anchors::{FeatureMap, map_anchors};

    fn logit(p: f32) -> f32 {
        (p / (1.0 - p)).ln()
    }

    fn det(score: f32, x0: f32, y0: f32, x1: f32, y1: f32) -> Detection {
        let kp = Point { x: (x0 + x1) / 2.0, y: (y0 + y1) / 2.0 };
        Detection { score, bbox: BoundingBox { x_min: x0, y_min: y0, x_max: x1, y_max: y1 }, keypoints: [kp; 6] }
    }

    #[test]
    fn sigmoid_is_the_logistic_and_clipped() {
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-7);
        assert!((sigmoid(logit(0.9)) - 0.9).abs() < 1e-6);
        assert_eq!(sigmoid(f32::INFINITY), 1.0);
        assert!(sigmoid(f32::NEG_INFINITY) >= 0.0);
    }

    #[test]
    fn iou_of_known_boxes() {
        let a = BoundingBox { x_min: 0.0, y_min: 0.0, x_max: 2.0, y_max: 2.0 };
        let b = BoundingBox { x_min: 1.0, y_min: 0.0, x_max: 3.0, y_max: 2.0 };
        assert!((a.iou(&b) - 2.0 / 6.0).abs() < 1e-6);
        assert_eq!(a.iou(&a), 1.0);
        let far = BoundingBox { x_min: 5.0, y_min: 5.0, x_max: 6.0, y_max: 6.0 };
        assert_eq!(a.iou(&far), 0.0);
        assert_eq!(BoundingBox::default().iou(&BoundingBox::default()), 0.0);
    }

    #[test]
    fn decode_places_box_and_keypoints_relative_to_the_anchor() {
        let anchors = map_anchors(FeatureMap { cells: 2, per_cell: 1 });
        // Four anchors at (0.25|0.75, 0.25|0.75); only the last one scores.
        let scores = [-5.0, -5.0, -5.0, logit(0.9)];
        let mut regs = vec![0.0f32; 4 * REGRESSOR_VALUES];
        let r = &mut regs[3 * REGRESSOR_VALUES..];
        r[0] = 12.8; // +0.1 of a 128 input
        r[1] = -12.8;
        r[2] = 25.6; // width 0.2
        r[3] = 51.2; // height 0.4
        for k in 0..6 {
            r[4 + 2 * k] = k as f32 * 1.28;
            r[5 + 2 * k] = -(k as f32) * 1.28;
        }
        let out = decode(&scores, &regs, &anchors, 128.0, 0.5);
        assert_eq!(out.len(), 1);
        let d = out[0];
        assert!((d.score - 0.9).abs() < 1e-5);
        let c = d.bbox.centre();
        assert!((c.x - 0.85).abs() < 1e-6 && (c.y - 0.65).abs() < 1e-6, "{c:?}");
        assert!((d.bbox.width() - 0.2).abs() < 1e-6 && (d.bbox.height() - 0.4).abs() < 1e-6);
        for k in 0..6 {
            assert!((d.keypoints[k].x - (0.75 + k as f32 * 0.01)).abs() < 1e-6);
            assert!((d.keypoints[k].y - (0.75 - k as f32 * 0.01)).abs() < 1e-6);
        }
        assert_eq!(d.keypoint(Keypoint::LeftEar), d.keypoints[5]);
    }

    #[test]
    fn decode_skips_low_scores_non_finite_values_and_short_inputs() {
        let anchors = map_anchors(FeatureMap { cells: 2, per_cell: 1 });
        let mut regs = vec![0.0f32; 4 * REGRESSOR_VALUES];
        regs[REGRESSOR_VALUES] = f32::NAN;
        assert!(decode(&[-3.0; 4], &regs, &anchors, 128.0, 0.5).is_empty());
        // Anchor 1 has a NaN regressor; anchors 0, 2, 3 pass.
        assert_eq!(decode(&[3.0; 4], &regs, &anchors, 128.0, 0.5).len(), 3);
        assert!(decode(&[f32::NAN; 4], &regs, &anchors, 128.0, 0.5).is_empty());
        // Shorter regressor slice: only two anchors can be decoded.
        assert_eq!(decode(&[3.0; 4], &regs[2 * REGRESSOR_VALUES..], &anchors, 128.0, 0.0).len(), 2);
    }

    #[test]
    fn weighted_nms_averages_overlaps_by_score_and_keeps_separate_faces() {
        let a = det(0.9, 0.0, 0.0, 1.0, 1.0);
        let b = det(0.6, 0.1, 0.1, 1.1, 1.1); // IoU with a ≈ 0.68
        let c = det(0.8, 3.0, 3.0, 4.0, 4.0); // elsewhere
        let out = weighted_nms(vec![b, c, a], NMS_IOU);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].score, 0.9);
        let expected = (0.9 * 0.0 + 0.6 * 0.1) / 1.5;
        assert!((out[0].bbox.x_min - expected).abs() < 1e-6, "{:?}", out[0].bbox);
        assert!((out[0].keypoints[2].x - (0.9 * 0.5 + 0.6 * 0.6) / 1.5).abs() < 1e-6);
        assert_eq!(out[1], c);
    }

    #[test]
    fn weighted_nms_does_not_merge_at_low_overlap() {
        let a = det(0.9, 0.0, 0.0, 1.0, 1.0);
        let b = det(0.8, 0.6, 0.0, 1.6, 1.0); // IoU = 0.4 / 1.6 = 0.25
        assert_eq!(weighted_nms(vec![a, b], NMS_IOU), vec![a, b]);
        assert!(weighted_nms(Vec::new(), NMS_IOU).is_empty());
    }
}
