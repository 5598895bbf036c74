//! Head pose from the six BlazeFace keypoints: yaw, pitch and roll in approximate degrees.
//!
//! No 3-D model is fitted; each angle comes from one ratio of keypoint distances that a rigid head turns
//! predictably, with average facial proportions (inter-eye distance as the unit):
//!
//! - **roll**: the angle of the line from the right eye to the left eye;
//! - **yaw**: in the roll-corrected frame, the nose tip's sideways offset from the eye midpoint
//!   (`offset = NOSE_DEPTH · tan(yaw)`), averaged with the asymmetry of the two ear–eye distances
//!   (`(d_right − d_left) / (d_right + d_left) = EAR_YAW_GAIN · tan(yaw)`);
//! - **pitch**: where the nose tip lies between the eye line and the mouth (`t`), against the frontal
//!   value [`PoseLimits::pitch_neutral`]: the nose tip sits in front of the face, so raising the chin moves it
//!   towards the eyes (`pitch = atan((t₀ − t) · eye_to_mouth / NOSE_DEPTH)`).
//!
//! Signs, from the subject's point of view on the **unmirrored** camera image (BlazeFace's "right eye" is the
//! subject's right eye, on the image's left): `yaw > 0` the face is turned towards the subject's left,
//! `pitch > 0` the chin is raised, `roll > 0` the head leans towards the subject's left shoulder. A mirrored
//! preview must not be analysed as is (the SDK mirrors only what it displays).

use serde::Serialize;

use super::FaceLandmarks;

/// Depth of the nose tip in front of the eyes, in inter-eye distances.
pub const NOSE_DEPTH: f32 = 0.5;
/// Ear–eye asymmetry per unit of `tan(yaw)` (ear tragion about 1.2 inter-eye distances behind the eyes and
/// 0.65 further out).
pub const EAR_YAW_GAIN: f32 = 1.8;

/// Estimated head orientation, degrees.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct HeadPose {
    /// Turn left/right; positive: towards the subject's left.
    pub yaw: f32,
    /// Nod; positive: chin up.
    pub pitch: f32,
    /// In-plane tilt; positive: towards the subject's left shoulder.
    pub roll: f32,
}

/// Pose limits of an acceptable selfie, degrees, and the frontal nose position.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct PoseLimits {
    /// Largest |yaw|.
    pub max_yaw: f32,
    /// Largest |pitch|.
    pub max_pitch: f32,
    /// Largest |roll|.
    pub max_roll: f32,
    /// The nose tip's position between eye line (0) and mouth (1) on a frontal face.
    pub pitch_neutral: f32,
}

impl Default for PoseLimits {
    fn default() -> Self {
        PoseLimits { max_yaw: 15.0, max_pitch: 15.0, max_roll: 12.0, pitch_neutral: 0.55 }
    }
}

/// Which way the head should move to come back within the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PoseFault {
    /// The face is turned towards the subject's right: turn left.
    TurnLeft,
    /// The face is turned towards the subject's left: turn right.
    TurnRight,
    /// The chin is lowered: look up.
    LookUp,
    /// The chin is raised: look down.
    LookDown,
    /// The head leans towards the subject's right shoulder: tilt it left.
    TiltLeft,
    /// The head leans towards the subject's left shoulder: tilt it right.
    TiltRight,
}

fn degrees(rad: f32) -> f32 {
    rad * (180.0 / std::f32::consts::PI)
}

/// Estimates the pose of one face, with the nose tip at `pitch_neutral` of the way from the eye line to the
/// mouth on a frontal face ([`PoseLimits::pitch_neutral`]); `None` when the eyes coincide or a coordinate is
/// not finite.
pub fn estimate(face: &FaceLandmarks, pitch_neutral: f32) -> Option<HeadPose> {
    let k = &face.keypoints;
    if k.iter().any(|p| !p.0.is_finite() || !p.1.is_finite()) || !pitch_neutral.is_finite() {
        return None;
    }
    let [right_eye, left_eye, nose, mouth, right_ear, left_ear] = *k;
    let (vx, vy) = (left_eye.0 - right_eye.0, left_eye.1 - right_eye.1);
    let eye_dist = vx.hypot(vy);
    if eye_dist.is_nan() || eye_dist <= 1e-3 {
        return None;
    }
    let roll = degrees(vy.atan2(vx));
    // Unit axes: u along the eye line, n perpendicular to it (down on an upright face).
    let (ux, uy) = (vx / eye_dist, vy / eye_dist);
    let (nx, ny) = (-uy, ux);
    let (mx, my) = (0.5 * (right_eye.0 + left_eye.0), 0.5 * (right_eye.1 + left_eye.1));
    let along = |p: (f32, f32)| ((p.0 - mx) * ux + (p.1 - my) * uy) / eye_dist;
    let across = |p: (f32, f32)| ((p.0 - mx) * nx + (p.1 - my) * ny) / eye_dist;

    let yaw_nose = degrees((along(nose) / NOSE_DEPTH).atan());
    let d_right = (along(right_eye) - along(right_ear)).abs();
    let d_left = (along(left_ear) - along(left_eye)).abs();
    let yaw = if d_right + d_left > 1e-3 {
        let asym = (d_right - d_left) / (d_right + d_left);
        0.5 * (yaw_nose + degrees((asym / EAR_YAW_GAIN).atan()))
    } else {
        yaw_nose
    };

    let eye_to_mouth = across(mouth);
    let pitch = if eye_to_mouth > 1e-3 {
        let t = across(nose) / eye_to_mouth;
        degrees(((pitch_neutral - t) * eye_to_mouth / NOSE_DEPTH).atan())
    } else {
        // The mouth is level with the eyes or above them: the head is tipped far back or upside down.
        90.0
    };
    Some(HeadPose { yaw, pitch, roll })
}

impl PoseLimits {
    /// The pose faults of `pose`, most important first (yaw, then pitch, then roll).
    pub fn faults(&self, pose: &HeadPose) -> impl Iterator<Item = PoseFault> {
        let yaw = if pose.yaw > self.max_yaw {
            Some(PoseFault::TurnRight)
        } else if pose.yaw < -self.max_yaw {
            Some(PoseFault::TurnLeft)
        } else {
            None
        };
        let pitch = if pose.pitch > self.max_pitch {
            Some(PoseFault::LookDown)
        } else if pose.pitch < -self.max_pitch {
            Some(PoseFault::LookUp)
        } else {
            None
        };
        let roll = if pose.roll > self.max_roll {
            Some(PoseFault::TiltRight)
        } else if pose.roll < -self.max_roll {
            Some(PoseFault::TiltLeft)
        } else {
            None
        };
        [yaw, pitch, roll].into_iter().flatten()
    }
}
