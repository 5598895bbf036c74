//! Borrowed RGBA8 camera frames.
//!
//! A [`Frame`] is a validated view of pixels laid out the way a canvas `ImageData` (or a decoded upload)
//! gives them: 4 bytes per pixel (R, G, B, A), rows top to bottom, `stride` bytes from the start of one row
//! to the start of the next. The last row only needs `width * 4` bytes, so tightly cropped buffers work.

/// Largest accepted width or height in pixels.
pub const MAX_SIDE: u32 = 8192;

/// Largest accepted pixel count (40 megapixels).
pub const MAX_PIXELS: u64 = 40_000_000;

/// Bytes per RGBA8 pixel.
pub const BYTES_PER_PIXEL: usize = 4;

/// Why a pixel buffer cannot be used as a [`Frame`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Width or height is zero.
    #[error("frame has zero width or height")]
    ZeroSize,
    /// A side exceeds [`MAX_SIDE`] or the pixel count exceeds [`MAX_PIXELS`].
    #[error("frame {width}x{height} is too large (max {MAX_SIDE} per side and {MAX_PIXELS} pixels)")]
    TooLarge {
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
    },
    /// The row stride is shorter than one row of pixels (`width * 4`).
    #[error("row stride {stride} is smaller than width * 4 = {min}")]
    StrideTooSmall {
        /// Given stride in bytes.
        stride: usize,
        /// Minimum stride in bytes.
        min: usize,
    },
    /// The buffer ends before the last pixel of the last row.
    #[error("pixel buffer too short: needed {needed} bytes, got {got}")]
    BufferTooShort {
        /// Bytes required (saturates at `usize::MAX` for absurd strides).
        needed: usize,
        /// Bytes available.
        got: usize,
    },
}

impl FrameError {
    /// Stable snake_case error code for logs, the wasm bindings and the signed manifest.
    pub fn code(&self) -> &'static str {
        match self {
            FrameError::ZeroSize => "frame_zero_size",
            FrameError::TooLarge { .. } => "frame_too_large",
            FrameError::StrideTooSmall { .. } => "frame_stride_too_small",
            FrameError::BufferTooShort { .. } => "frame_buffer_too_short",
        }
    }
}

/// Borrowed RGBA8 pixels as canvas `ImageData` gives them (row stride in bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    data: &'a [u8],
    width: u32,
    height: u32,
    stride: usize,
}

impl<'a> Frame<'a> {
    /// Validates a buffer of `height` rows, each starting `stride` bytes after the previous one.
    ///
    /// Bytes between `width * 4` and `stride` (row padding) are ignored, as is anything after the last row.
    pub fn new(data: &'a [u8], width: u32, height: u32, stride: usize) -> Result<Self, FrameError> {
        if width == 0 || height == 0 {
            return Err(FrameError::ZeroSize);
        }
        if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
            return Err(FrameError::TooLarge { width, height });
        }
        // width <= 8192, so this cannot overflow even on 32-bit targets.
        let row_bytes = width as usize * BYTES_PER_PIXEL;
        if stride < row_bytes {
            return Err(FrameError::StrideTooSmall { stride, min: row_bytes });
        }
        let needed =
            stride.checked_mul(height as usize - 1).and_then(|n| n.checked_add(row_bytes)).unwrap_or(usize::MAX);
        if data.len() < needed {
            return Err(FrameError::BufferTooShort { needed, got: data.len() });
        }
        Ok(Frame { data, width, height, stride })
    }

    /// Validates a tightly packed buffer (`stride = width * 4`).
    pub fn packed(data: &'a [u8], width: u32, height: u32) -> Result<Self, FrameError> {
        let stride = (width as usize).saturating_mul(BYTES_PER_PIXEL);
        Self::new(data, width, height, stride)
    }

    /// Width in pixels (1..=[`MAX_SIDE`]).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels (1..=[`MAX_SIDE`]).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes from the start of one row to the start of the next.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The underlying buffer, including any row padding.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The `width * 4` pixel bytes of row `y`, or `None` if `y >= height`.
    pub fn row(&self, y: u32) -> Option<&'a [u8]> {
        if y >= self.height {
            return None;
        }
        let start = y as usize * self.stride;
        self.data.get(start..start + self.width as usize * BYTES_PER_PIXEL)
    }

    /// A view of the rectangle `width × height` at `(x, y)`, clipped to the frame; `None` when the clipped
    /// rectangle is empty.
    pub fn crop(&self, x: u32, y: u32, width: u32, height: u32) -> Option<Frame<'a>> {
        let (x, y) = (x.min(self.width), y.min(self.height));
        let width = width.min(self.width - x);
        let height = height.min(self.height - y);
        if width == 0 || height == 0 {
            return None;
        }
        let start = y as usize * self.stride + x as usize * BYTES_PER_PIXEL;
        let data = self.data.get(start..)?;
        Frame::new(data, width, height, self.stride).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn packed_frame_accessors() {
        let data = vec![0u8; 3 * 2 * 4];
        let f = Frame::packed(&data, 3, 2).unwrap();
        assert_eq!((f.width(), f.height(), f.stride()), (3, 2, 12));
        assert_eq!(f.data().len(), 24);
        assert_eq!(f.row(1).unwrap().len(), 12);
        assert!(f.row(2).is_none());
    }

    #[test]
    fn zero_size() {
        assert_eq!(Frame::packed(&[], 0, 5), Err(FrameError::ZeroSize));
        assert_eq!(Frame::packed(&[], 5, 0), Err(FrameError::ZeroSize));
        assert_eq!(FrameError::ZeroSize.code(), "frame_zero_size");
    }

    #[test]
    fn too_large() {
        let e = Frame::packed(&[], 8193, 1).unwrap_err();
        assert_eq!(e, FrameError::TooLarge { width: 8193, height: 1 });
        assert_eq!(e.code(), "frame_too_large");
        // Each side fine but more than 40 MP.
        assert!(matches!(Frame::packed(&[], 8192, 5000), Err(FrameError::TooLarge { .. })));
    }

    #[test]
    fn stride_too_small() {
        let data = vec![0u8; 100];
        let e = Frame::new(&data, 4, 2, 15).unwrap_err();
        assert_eq!(e, FrameError::StrideTooSmall { stride: 15, min: 16 });
        assert_eq!(e.code(), "frame_stride_too_small");
    }

    #[test]
    fn buffer_too_short() {
        let data = vec![0u8; 31];
        let e = Frame::packed(&data, 4, 2).unwrap_err();
        assert_eq!(e, FrameError::BufferTooShort { needed: 32, got: 31 });
        assert_eq!(e.code(), "frame_buffer_too_short");
        // Absurd stride saturates instead of overflowing.
        let e = Frame::new(&data, 1, 3, usize::MAX).unwrap_err();
        assert_eq!(e, FrameError::BufferTooShort { needed: usize::MAX, got: 31 });
    }

    #[test]
    fn odd_stride_with_padding() {
        // 3 pixels per row, 13-byte stride (1 padding byte), last row unpadded.
        let mut data = vec![0xEEu8; 13 * 2 + 12];
        for y in 0..3 {
            for b in 0..12 {
                data[y * 13 + b] = (y * 10 + b) as u8;
            }
        }
        let f = Frame::new(&data, 3, 3, 13).unwrap();
        assert_eq!(f.row(2).unwrap()[0], 20);
        assert_eq!(f.row(1).unwrap()[11], 21);
        assert!(f.row(0).unwrap().iter().all(|&b| b != 0xEE));
    }

    proptest! {
        #[test]
        fn never_panics(len in 0usize..2048, w in 0u32..20_000, h in 0u32..20_000, stride in 0usize..100_000) {
            let data = vec![0u8; len];
            if let Ok(f) = Frame::new(&data, w, h, stride) {
                prop_assert!(f.row(f.height() - 1).is_some());
                prop_assert!(f.width() >= 1 && f.height() >= 1);
            }
            let _ = Frame::packed(&data, w, h);
        }
    }

    #[test]
    fn crop_is_a_clipped_view() {
        let data: Vec<u8> = (0..8 * 6 * 4).map(|i| i as u8).collect();
        let f = Frame::packed(&data, 8, 6).unwrap();
        let c = f.crop(2, 3, 10, 2).unwrap();
        assert_eq!((c.width(), c.height(), c.stride()), (6, 2, 32));
        assert_eq!(c.row(0).unwrap()[..4], data[(3 * 8 + 2) * 4..(3 * 8 + 2) * 4 + 4]);
        assert!(f.crop(8, 0, 1, 1).is_none());
        assert!(f.crop(0, 0, 0, 5).is_none());
    }
}
