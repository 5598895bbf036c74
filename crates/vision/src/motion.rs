//! Inter-frame motion: mean absolute luma difference between consecutive working images.
//!
//! A hand-held phone that is still moving gives large frame-to-frame differences even when each frame is
//! sharp; auto-capture waits for this to settle. The value is in luma units (0..=255).

use crate::luma::WorkingImage;

/// Mean absolute luma difference between `a` and `b` (0..=255), or `None` if their sizes differ or
/// they are empty.
pub fn mean_abs_diff(a: &WorkingImage, b: &WorkingImage) -> Option<f32> {
    if a.width() != b.width() || a.height() != b.height() || a.is_empty() {
        return None;
    }
    let mut sum = 0u64;
    for (ra, rb) in a.luma().chunks(4096).zip(b.luma().chunks(4096)) {
        let mut chunk = 0u32; // 4096 * 255 fits in u32
        for (&x, &y) in ra.iter().zip(rb) {
            chunk += u32::from(x.abs_diff(y));
        }
        sum += u64::from(chunk);
    }
    Some((sum as f64 / a.len() as f64) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(w: u32, h: u32, v: Vec<u8>) -> WorkingImage {
        WorkingImage::from_luma(w, h, v).unwrap()
    }

    #[test]
    fn identical_is_zero() {
        let a = img(3, 2, vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(mean_abs_diff(&a, &a), Some(0.0));
    }

    #[test]
    fn mean_of_abs_differences() {
        let a = img(2, 2, vec![0, 255, 10, 20]);
        let b = img(2, 2, vec![255, 0, 20, 10]);
        assert_eq!(mean_abs_diff(&a, &b), Some((255.0 + 255.0 + 10.0 + 10.0) / 4.0));
    }

    #[test]
    fn size_mismatch_or_empty() {
        let a = img(2, 2, vec![0; 4]);
        let b = img(4, 1, vec![0; 4]);
        assert_eq!(mean_abs_diff(&a, &b), None);
        assert_eq!(mean_abs_diff(&WorkingImage::new(), &WorkingImage::new()), None);
    }
}
