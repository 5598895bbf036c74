//! Face chip quality: a sharpness measure on the aligned 150×150 chip.
//!
//! Sharpness is the mean squared 4-neighbour Laplacian of the luma over the central face
//! region (eyes to mouth), so background texture and hair do not count. A chip enlarged from a
//! tiny or blurred face scores low.

use image::RgbImage;

/// Central region (chip pixels) the sharpness is measured on.
pub const REGION: (u32, u32, u32, u32) = (40, 35, 110, 115);

/// Mean squared Laplacian of the luma in [`REGION`] (0 for a flat chip).
pub fn chip_sharpness(chip: &RgbImage) -> f32 {
    let luma = |x: u32, y: u32| {
        chip.get_pixel_checked(x, y)
            .map_or(0.0, |p| 0.299 * f32::from(p.0[0]) + 0.587 * f32::from(p.0[1]) + 0.114 * f32::from(p.0[2]))
    };
    let (x0, y0, x1, y1) = REGION;
    let (x1, y1) = (x1.min(chip.width().saturating_sub(1)), y1.min(chip.height().saturating_sub(1)));
    let mut sum = 0f64;
    let mut n = 0u32;
    for y in y0.max(1)..y1 {
        for x in x0.max(1)..x1 {
            let lap = 4.0 * luma(x, y) - luma(x - 1, y) - luma(x + 1, y) - luma(x, y - 1) - luma(x, y + 1);
            sum += f64::from(lap) * f64::from(lap);
            n += 1;
        }
    }
    if n == 0 { 0.0 } else { (sum / f64::from(n)) as f32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_is_zero_and_texture_is_sharper_than_its_blur() {
        let flat = RgbImage::from_pixel(150, 150, image::Rgb([90, 90, 90]));
        assert!(chip_sharpness(&flat) < 1e-6);
        let checker = RgbImage::from_fn(150, 150, |x, y| {
            if (x / 2 + y / 2) % 2 == 0 { image::Rgb([200; 3]) } else { image::Rgb([50; 3]) }
        });
        let blurred = image::imageops::blur(&checker, 3.0);
        assert!(chip_sharpness(&checker) > 10.0 * chip_sharpness(&blurred));
        assert_eq!(chip_sharpness(&RgbImage::new(1, 1)), 0.0);
    }
}
