//! Injection signs: frames that did not come from a camera looking at a person.
//!
//! A virtual camera or a replayed stream betrays itself in ways a sensor cannot: two consecutive frames that
//! are *identical* (a sensor always adds fresh noise), timestamps that are perfectly regular (real capture
//! jitters by a fraction of a millisecond or more), frame rates no phone camera delivers, and device labels
//! of known virtual-camera software.

/// Lower-case fragments of the track labels of common virtual-camera software.
pub const VIRTUAL_CAMERA_LABELS: &[&str] = &[
    "obs virtual",
    "obs-camera",
    "manycam",
    "xsplit",
    "snap camera",
    "v4l2loopback",
    "dummy video",
    "e2esoft",
    "vcam",
    "camtwist",
    "droidcam",
    "splitcam",
    "youcam",
    "virtual camera",
    "fake_device",
    "fake video",
];

/// A frame pair closer than this mean absolute difference (grey levels) is a duplicate: even a still scene
/// gives a sensor's noise, so only a copied frame comes this close.
pub const DUPLICATE_DIFF: f64 = 0.05;

/// The injection evidence of a burst.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct InjectionReport {
    /// Consecutive frame pairs compared.
    pub pairs: usize,
    /// Pairs that were exact or near-exact copies.
    pub duplicate_pairs: usize,
    /// Mean interval between frames, milliseconds.
    pub mean_interval_ms: f64,
    /// Standard deviation of the intervals, milliseconds.
    pub interval_jitter_ms: f64,
    /// Whether the camera's label names known virtual-camera software.
    pub virtual_camera: bool,
    /// Whether the timing is implausible for a camera (over 120 fps, a gap over 1.5 s, or time going back).
    pub implausible_timing: bool,
}

/// Whether `label` names known virtual-camera software (case-insensitive).
pub fn is_virtual_camera(label: &str) -> bool {
    let lower = label.to_lowercase();
    VIRTUAL_CAMERA_LABELS.iter().any(|v| lower.contains(v))
}

/// Builds the report from the timestamps (ms), the mean absolute differences between consecutive frames, and
/// the camera label if known.
pub fn assess(timestamps_ms: &[f64], frame_diffs: &[f64], camera_label: Option<&str>) -> InjectionReport {
    let intervals: Vec<f64> = timestamps_ms.windows(2).map(|w| w[1] - w[0]).collect();
    let n = intervals.len() as f64;
    let mean = if intervals.is_empty() { 0.0 } else { intervals.iter().sum::<f64>() / n };
    let jitter = if intervals.is_empty() {
        0.0
    } else {
        (intervals.iter().map(|i| (i - mean) * (i - mean)).sum::<f64>() / n).sqrt()
    };
    let implausible =
        intervals.iter().any(|&i| !i.is_finite() || i <= 0.0 || i > 1500.0) || (mean > 0.0 && mean < 1000.0 / 120.0);
    InjectionReport {
        pairs: frame_diffs.len(),
        duplicate_pairs: frame_diffs.iter().filter(|&&d| d < DUPLICATE_DIFF).count(),
        mean_interval_ms: mean,
        interval_jitter_ms: jitter,
        virtual_camera: camera_label.is_some_and(is_virtual_camera),
        implausible_timing: implausible,
    }
}

impl InjectionReport {
    /// Attack likelihood in `[0, 1]` with the strongest reason.
    pub fn attack_score(&self) -> (f64, &'static str) {
        if self.virtual_camera {
            return (0.95, "the camera is known virtual-camera software");
        }
        if self.pairs > 0 {
            let share = self.duplicate_pairs as f64 / self.pairs as f64;
            if share >= 0.5 {
                return (1.0, "most frames are exact copies of the previous one (a still image, not a sensor)");
            }
            if share > 0.0 {
                return (0.3 + 0.6 * share, "some frames are exact copies of the previous one");
            }
        }
        if self.implausible_timing {
            return (0.7, "frame timing no camera produces");
        }
        if self.pairs >= 8 && self.interval_jitter_ms < 0.001 {
            return (0.4, "frame intervals are perfectly regular (synthetic timing)");
        }
        (0.0, "frames look like a live sensor: fresh noise, plausible timing")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_still_is_an_attack() {
        let r = assess(&[0.0, 33.4, 66.1, 100.3, 133.0], &[0.0, 0.0, 0.0, 0.0], None);
        assert_eq!(r.duplicate_pairs, 4);
        assert_eq!(r.attack_score().0, 1.0);
    }

    #[test]
    fn a_noisy_jittery_stream_is_clean() {
        let r = assess(&[0.0, 33.4, 66.1, 100.3, 133.0], &[1.2, 0.9, 1.4, 1.1], Some("FaceTime HD Camera"));
        assert_eq!(r.attack_score().0, 0.0);
        assert!(r.interval_jitter_ms > 0.1);
    }

    #[test]
    fn virtual_cameras_and_odd_timing_are_flagged() {
        assert!(is_virtual_camera("OBS Virtual Camera"));
        assert!(!is_virtual_camera("Integrated Webcam"));
        let r = assess(&[0.0, 33.0, 2000.0], &[1.0, 1.0], None);
        assert!(r.implausible_timing && r.attack_score().0 >= 0.7);
        let back = assess(&[10.0, 5.0], &[1.0], None);
        assert!(back.implausible_timing);
        let regular: Vec<f64> = (0..10).map(|i| f64::from(i) * 40.0).collect();
        assert_eq!(assess(&regular, &[1.0; 9], None).attack_score().0, 0.4);
    }
}
