//! Plane geometry for document boundaries: points, quadrilaterals, lines and homographies.
//!
//! Coordinates are *continuous* pixel coordinates: pixel `(x, y)` covers `[x, x + 1) × [y, y + 1)`, so its
//! centre is `(x + 0.5, y + 0.5)`, and scaling an image by `k` scales every coordinate by `k`.
//!
//! Everything here uses only IEEE basic operations (`+ - * /`, `sqrt`) so that wasm32 and native builds agree
//! bit for bit. The few angles the boundary detector needs come from [`sin_cos`] and [`atan2`], which are
//! polynomial approximations built from those operations (not the platform's `libm`).

use serde::Serialize;

/// A point in continuous pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Point {
    /// Horizontal coordinate (grows to the right).
    pub x: f64,
    /// Vertical coordinate (grows downwards).
    pub y: f64,
}

impl Point {
    /// A point.
    pub const fn new(x: f64, y: f64) -> Self {
        Point { x, y }
    }

    /// Euclidean distance to `other`.
    pub fn distance(self, other: Point) -> f64 {
        let (dx, dy) = (self.x - other.x, self.y - other.y);
        (dx * dx + dy * dy).sqrt()
    }

    /// This point with both coordinates multiplied by `k`.
    pub fn scaled(self, k: f64) -> Point {
        Point::new(self.x * k, self.y * k)
    }
}

/// A line `x·cos θ + y·sin θ = rho` given by its unit normal `(nx, ny)` and offset `rho`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Line {
    /// Unit normal, x component.
    pub nx: f64,
    /// Unit normal, y component.
    pub ny: f64,
    /// Signed distance of the line from the origin along the normal.
    pub rho: f64,
}

impl Line {
    /// Signed distance of `p` from the line (positive on the side the normal points to).
    pub fn signed_distance(&self, p: Point) -> f64 {
        p.x * self.nx + p.y * self.ny - self.rho
    }

    /// Intersection with `other`, or `None` when the lines are (nearly) parallel.
    pub fn intersect(&self, other: &Line) -> Option<Point> {
        let det = self.nx * other.ny - self.ny * other.nx;
        if det.abs() < 1e-9 {
            return None;
        }
        let x = (self.rho * other.ny - self.ny * other.rho) / det;
        let y = (self.nx * other.rho - self.rho * other.nx) / det;
        Some(Point::new(x, y))
    }

    /// The total-least-squares line through weighted points `(x, y, weight)`; `None` for fewer than two
    /// points or a degenerate spread.
    pub fn fit(points: impl Iterator<Item = (f64, f64, f64)> + Clone) -> Option<Line> {
        let (mut sw, mut sx, mut sy) = (0.0, 0.0, 0.0);
        for (x, y, w) in points.clone() {
            sw += w;
            sx += w * x;
            sy += w * y;
        }
        if sw <= 0.0 {
            return None;
        }
        let (mx, my) = (sx / sw, sy / sw);
        let (mut cxx, mut cxy, mut cyy) = (0.0, 0.0, 0.0);
        for (x, y, w) in points {
            let (dx, dy) = (x - mx, y - my);
            cxx += w * dx * dx;
            cxy += w * dx * dy;
            cyy += w * dy * dy;
        }
        // The normal is the eigenvector of the smaller eigenvalue of [[cxx, cxy], [cxy, cyy]].
        let trace = cxx + cyy;
        let diff = cxx - cyy;
        let root = (diff * diff + 4.0 * cxy * cxy).sqrt();
        let small = (trace - root) / 2.0;
        if root <= 1e-12 * trace.max(1e-300) {
            return None;
        }
        // (cxx - small) nx + cxy ny = 0 → normal ∝ (cxy, small - cxx) or (small - cyy, cxy).
        let (a, b) = if (cxx - small).abs() >= (cyy - small).abs() { (-cxy, cxx - small) } else { (cyy - small, -cxy) };
        let norm = (a * a + b * b).sqrt();
        if norm == 0.0 {
            return None;
        }
        let (nx, ny) = (a / norm, b / norm);
        Some(Line { nx, ny, rho: mx * nx + my * ny })
    }
}

/// A quadrilateral with corners in clockwise order on screen, starting at the top-left one.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Quad {
    /// Top-left, top-right, bottom-right, bottom-left.
    pub corners: [Point; 4],
}

impl Quad {
    /// Orders four corners of a convex quadrilateral given in cyclic order (either direction): clockwise on
    /// screen (y down), starting at the corner with the smallest `x + y`.
    pub fn from_cyclic(mut corners: [Point; 4]) -> Quad {
        if signed_area(&corners) < 0.0 {
            corners.reverse();
        }
        let mut start = 0;
        for i in 1..4 {
            let key = |p: Point| p.x + p.y;
            if key(corners[i]) < key(corners[start]) {
                start = i;
            }
        }
        corners.rotate_left(start);
        Quad { corners }
    }

    /// The mean of the four corners.
    pub fn centroid(&self) -> Point {
        let c = &self.corners;
        Point::new((c[0].x + c[1].x + c[2].x + c[3].x) / 4.0, (c[0].y + c[1].y + c[2].y + c[3].y) / 4.0)
    }

    /// Area (absolute value of the shoelace formula).
    pub fn area(&self) -> f64 {
        signed_area(&self.corners).abs()
    }

    /// True if the quadrilateral is strictly convex (all turns the same way, none degenerate).
    pub fn is_convex(&self) -> bool {
        let mut sign = 0.0f64;
        for i in 0..4 {
            let (a, b, c) = (self.corners[i], self.corners[(i + 1) % 4], self.corners[(i + 2) % 4]);
            let cross = (b.x - a.x) * (c.y - b.y) - (b.y - a.y) * (c.x - b.x);
            if cross == 0.0 || (sign != 0.0 && cross.signum() != sign) {
                return false;
            }
            sign = cross.signum();
        }
        true
    }

    /// Side lengths: top, right, bottom, left.
    pub fn side_lengths(&self) -> [f64; 4] {
        let c = &self.corners;
        [c[0].distance(c[1]), c[1].distance(c[2]), c[2].distance(c[3]), c[3].distance(c[0])]
    }

    /// Every corner multiplied by `k`.
    pub fn scaled(&self, k: f64) -> Quad {
        Quad { corners: self.corners.map(|p| p.scaled(k)) }
    }

    /// The horizontal extent `[x0, x1]` of the quadrilateral on the horizontal line at height `y`, or `None`
    /// when the line misses it. Exact for convex quadrilaterals.
    pub fn row_span(&self, y: f64) -> Option<(f64, f64)> {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for i in 0..4 {
            let (a, b) = (self.corners[i], self.corners[(i + 1) % 4]);
            let (y0, y1) = if a.y <= b.y { (a.y, b.y) } else { (b.y, a.y) };
            if y < y0 || y > y1 {
                continue;
            }
            let x = if a.y == b.y { a.x.min(b.x) } else { a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y) };
            let x_other = if a.y == b.y { a.x.max(b.x) } else { x };
            lo = lo.min(x).min(x_other);
            hi = hi.max(x).max(x_other);
        }
        (lo <= hi).then_some((lo, hi))
    }

    /// True if `p` lies inside (or on the border of) the convex quadrilateral.
    pub fn contains(&self, p: Point) -> bool {
        let mut sign = 0.0f64;
        for i in 0..4 {
            let (a, b) = (self.corners[i], self.corners[(i + 1) % 4]);
            let cross = (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x);
            if cross != 0.0 {
                if sign != 0.0 && cross.signum() != sign {
                    return false;
                }
                sign = cross.signum();
            }
        }
        true
    }

    /// The largest distance between corresponding corners of two quadrilaterals.
    pub fn max_corner_distance(&self, other: &Quad) -> f64 {
        (0..4).map(|i| self.corners[i].distance(other.corners[i])).fold(0.0, f64::max)
    }
}

fn signed_area(c: &[Point; 4]) -> f64 {
    let mut s = 0.0;
    for i in 0..4 {
        let (a, b) = (c[i], c[(i + 1) % 4]);
        s += a.x * b.y - b.x * a.y;
    }
    s / 2.0
}

/// A projective transform of the plane (3×3 matrix, row-major, `h[8]` normalised to 1 when possible).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Homography {
    /// Row-major matrix entries.
    pub h: [f64; 9],
}

impl Homography {
    /// The homography mapping each `src[i]` to `dst[i]`; `None` if the points are degenerate (three on a
    /// line, or repeated).
    pub fn from_points(src: &[Point; 4], dst: &[Point; 4]) -> Option<Homography> {
        // Unknowns h0..h7 with h8 = 1; two equations per correspondence.
        let mut m = [[0.0f64; 9]; 8];
        for i in 0..4 {
            let (x, y, u, v) = (src[i].x, src[i].y, dst[i].x, dst[i].y);
            m[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
            m[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
        }
        let sol = solve8(&mut m)?;
        let h = [sol[0], sol[1], sol[2], sol[3], sol[4], sol[5], sol[6], sol[7], 1.0];
        h.iter().all(|v| v.is_finite()).then_some(Homography { h })
    }

    /// The least-squares homography mapping each `pairs[i].0` to `pairs[i].1` (at least 4 pairs), from the
    /// normalised direct linear transform: both point sets are moved to their centroid and scaled to a mean
    /// distance of √2 before solving, which keeps the normal equations well conditioned. `None` if the points
    /// are degenerate.
    pub fn fit(pairs: &[(Point, Point)]) -> Option<Homography> {
        if pairs.len() < 4 {
            return None;
        }
        let src = Normaliser::of(pairs.iter().map(|p| p.0))?;
        let dst = Normaliser::of(pairs.iter().map(|p| p.1))?;
        // Normal equations AᵀA h = Aᵀb for the unknowns h0..h7 (h8 = 1).
        let mut m = [[0.0f64; 9]; 8];
        for (a, b) in pairs {
            let (p, q) = (src.apply(*a), dst.apply(*b));
            let rows = [
                [p.x, p.y, 1.0, 0.0, 0.0, 0.0, -q.x * p.x, -q.x * p.y, q.x],
                [0.0, 0.0, 0.0, p.x, p.y, 1.0, -q.y * p.x, -q.y * p.y, q.y],
            ];
            for row in &rows {
                for i in 0..8 {
                    for j in 0..9 {
                        m[i][j] += row[i] * row[j];
                    }
                }
            }
        }
        let sol = solve8(&mut m)?;
        let hn = [sol[0], sol[1], sol[2], sol[3], sol[4], sol[5], sol[6], sol[7], 1.0];
        // H = T_dst⁻¹ · Hn · T_src.
        let t_src = [src.scale, 0.0, -src.scale * src.cx, 0.0, src.scale, -src.scale * src.cy, 0.0, 0.0, 1.0];
        let inv_dst = [1.0 / dst.scale, 0.0, dst.cx, 0.0, 1.0 / dst.scale, dst.cy, 0.0, 0.0, 1.0];
        let h = mul3(&inv_dst, &mul3(&hn, &t_src));
        let k = if h[8].abs() > 1e-12 { h[8] } else { 1.0 };
        let h = h.map(|v| v / k);
        h.iter().all(|v| v.is_finite()).then_some(Homography { h })
    }

    /// Maps `p`; `None` if it lands at infinity.
    pub fn apply(&self, p: Point) -> Option<Point> {
        let h = &self.h;
        let w = h[6] * p.x + h[7] * p.y + h[8];
        if w.abs() < 1e-12 {
            return None;
        }
        Some(Point::new((h[0] * p.x + h[1] * p.y + h[2]) / w, (h[3] * p.x + h[4] * p.y + h[5]) / w))
    }

    /// The inverse transform, or `None` if the matrix is singular.
    pub fn inverse(&self) -> Option<Homography> {
        let m = &self.h;
        let c00 = m[4] * m[8] - m[5] * m[7];
        let c01 = m[5] * m[6] - m[3] * m[8];
        let c02 = m[3] * m[7] - m[4] * m[6];
        let det = m[0] * c00 + m[1] * c01 + m[2] * c02;
        if det.abs() < 1e-15 || !det.is_finite() {
            return None;
        }
        let inv = [
            c00 / det,
            (m[2] * m[7] - m[1] * m[8]) / det,
            (m[1] * m[5] - m[2] * m[4]) / det,
            c01 / det,
            (m[0] * m[8] - m[2] * m[6]) / det,
            (m[2] * m[3] - m[0] * m[5]) / det,
            c02 / det,
            (m[1] * m[6] - m[0] * m[7]) / det,
            (m[0] * m[4] - m[1] * m[3]) / det,
        ];
        let k = if inv[8].abs() > 1e-12 { inv[8] } else { 1.0 };
        Some(Homography { h: inv.map(|v| v / k) })
    }
}

/// Moves a point set to its centroid and scales it to a mean distance of √2 (Hartley's normalisation).
struct Normaliser {
    cx: f64,
    cy: f64,
    scale: f64,
}

impl Normaliser {
    fn of(points: impl Iterator<Item = Point> + Clone) -> Option<Normaliser> {
        let n = points.clone().count() as f64;
        let (sx, sy) = points.clone().fold((0.0, 0.0), |(x, y), p| (x + p.x, y + p.y));
        let (cx, cy) = (sx / n, sy / n);
        let mean = points.map(|p| Point::new(cx, cy).distance(p)).sum::<f64>() / n;
        (mean > 1e-12 && mean.is_finite()).then(|| Normaliser { cx, cy, scale: std::f64::consts::SQRT_2 / mean })
    }

    fn apply(&self, p: Point) -> Point {
        Point::new((p.x - self.cx) * self.scale, (p.y - self.cy) * self.scale)
    }
}

/// The product of two row-major 3×3 matrices.
fn mul3(a: &[f64; 9], b: &[f64; 9]) -> [f64; 9] {
    let mut out = [0.0; 9];
    for r in 0..3 {
        for c in 0..3 {
            out[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
        }
    }
    out
}

/// Gaussian elimination with partial pivoting on an 8×9 augmented matrix.
fn solve8(m: &mut [[f64; 9]; 8]) -> Option<[f64; 8]> {
    for col in 0..8 {
        let mut pivot = col;
        for row in col + 1..8 {
            if m[row][col].abs() > m[pivot][col].abs() {
                pivot = row;
            }
        }
        if m[pivot][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        let pivot_row = m[col];
        for (row, r) in m.iter_mut().enumerate() {
            if row != col {
                let f = r[col] / pivot_row[col];
                if f != 0.0 {
                    for (v, p) in r[col..].iter_mut().zip(&pivot_row[col..]) {
                        *v -= f * p;
                    }
                }
            }
        }
    }
    let mut out = [0.0; 8];
    for (i, o) in out.iter_mut().enumerate() {
        *o = m[i][8] / m[i][i];
    }
    Some(out)
}

/// π, to double precision.
pub const PI: f64 = std::f64::consts::PI;

/// `(sin θ, cos θ)` for `θ` in radians, from a range-reduced Taylor series (basic operations only; absolute
/// error below 1e-12 for `|θ| ≤ 1e6`).
pub fn sin_cos(theta: f64) -> (f64, f64) {
    // Reduce to r in [-π/4, π/4] and a quadrant.
    let q = (theta / (PI / 2.0)).round();
    let r = theta - q * (PI / 2.0);
    let r2 = r * r;
    let mut s = 0.0;
    let mut c = 0.0;
    // Horner on the series up to r^17 / r^16.
    let s_coeffs = [
        1.0 / 355_687_428_096_000.0,
        -1.0 / 1_307_674_368_000.0,
        1.0 / 6_227_020_800.0,
        -1.0 / 39_916_800.0,
        1.0 / 362_880.0,
        -1.0 / 5040.0,
        1.0 / 120.0,
        -1.0 / 6.0,
        1.0,
    ];
    for k in s_coeffs {
        s = s * r2 + k;
    }
    s *= r;
    let c_coeffs = [
        1.0 / 20_922_789_888_000.0,
        -1.0 / 87_178_291_200.0,
        1.0 / 479_001_600.0,
        -1.0 / 3_628_800.0,
        1.0 / 40_320.0,
        -1.0 / 720.0,
        1.0 / 24.0,
        -1.0 / 2.0,
        1.0,
    ];
    for k in c_coeffs {
        c = c * r2 + k;
    }
    match (q as i64).rem_euclid(4) {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    }
}

/// `atan2(y, x)` in `(-π, π]` from a minimax-style polynomial (basic operations only; error below 1e-5 rad).
/// `atan2(0, 0)` is 0.
pub fn atan2(y: f64, x: f64) -> f64 {
    if x == 0.0 && y == 0.0 {
        return 0.0;
    }
    let (ax, ay) = (x.abs(), y.abs());
    let swap = ay > ax;
    let t = if swap { ax / ay } else { ay / ax }; // in [0, 1]
    // atan(t) on [0, 1] via the identity atan(t) = π/4 + atan((t - 1) / (t + 1)) for t > 0.4142 and the
    // odd Taylor series on the reduced argument (|u| ≤ 0.4142).
    let (base, u) = if t > 0.414_213_562_373_095 { (PI / 4.0, (t - 1.0) / (t + 1.0)) } else { (0.0, t) };
    let u2 = u * u;
    let mut p = 0.0;
    for k in (0..12).rev() {
        let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
        p = p * u2 + sign / f64::from(2 * k + 1);
    }
    let mut a = base + u * p;
    if swap {
        a = PI / 2.0 - a;
    }
    if x < 0.0 {
        a = PI - a;
    }
    if y < 0.0 { -a } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trig_matches_std() {
        for i in -400..=400 {
            let t = f64::from(i) * 0.0173;
            let (s, c) = sin_cos(t);
            assert!((s - t.sin()).abs() < 1e-12 && (c - t.cos()).abs() < 1e-12, "{t}");
            let (y, x) = (t.sin() * 3.0, (t * 1.7).cos() * 2.0);
            assert!((atan2(y, x) - y.atan2(x)).abs() < 1e-5, "{y} {x}");
        }
        assert_eq!(atan2(0.0, 0.0), 0.0);
    }

    #[test]
    fn least_squares_fit_recovers_a_homography_from_many_points() {
        let src = [Point::new(10.0, 20.0), Point::new(300.0, 40.0), Point::new(280.0, 220.0), Point::new(30.0, 200.0)];
        let dst = [Point::new(14.0, 25.0), Point::new(310.0, 35.0), Point::new(290.0, 230.0), Point::new(20.0, 210.0)];
        let truth = Homography::from_points(&src, &dst).unwrap();
        let pairs: Vec<(Point, Point)> = (0..50)
            .map(|i| {
                let p = Point::new(f64::from(i % 10) * 31.0 + 5.0, f64::from(i / 10) * 47.0 + 3.0);
                (p, truth.apply(p).unwrap())
            })
            .collect();
        let fitted = Homography::fit(&pairs).unwrap();
        for (p, q) in &pairs {
            assert!(fitted.apply(*p).unwrap().distance(*q) < 1e-6);
        }
        assert!(Homography::fit(&pairs[..3]).is_none());
        let same = vec![(Point::new(1.0, 1.0), Point::new(2.0, 2.0)); 6];
        assert!(Homography::fit(&same).is_none());
    }

    #[test]
    fn homography_maps_corners_and_inverts() {
        let src = [Point::new(10.0, 20.0), Point::new(300.0, 40.0), Point::new(280.0, 220.0), Point::new(30.0, 200.0)];
        let dst = [Point::new(0.0, 0.0), Point::new(856.0, 0.0), Point::new(856.0, 540.0), Point::new(0.0, 540.0)];
        let h = Homography::from_points(&src, &dst).unwrap();
        let inv = h.inverse().unwrap();
        for i in 0..4 {
            let p = h.apply(src[i]).unwrap();
            assert!(p.distance(dst[i]) < 1e-6);
            assert!(inv.apply(dst[i]).unwrap().distance(src[i]) < 1e-6);
        }
        let collinear = [Point::new(0.0, 0.0), Point::new(1.0, 1.0), Point::new(2.0, 2.0), Point::new(3.0, 3.0)];
        assert!(Homography::from_points(&collinear, &dst).is_none());
    }

    #[test]
    fn quad_ordering_area_spans_and_containment() {
        let cyclic = [Point::new(0.0, 10.0), Point::new(0.0, 0.0), Point::new(20.0, 0.0), Point::new(20.0, 10.0)];
        let q = Quad::from_cyclic(cyclic);
        assert_eq!(q.corners[0], Point::new(0.0, 0.0));
        assert_eq!(q.corners[1], Point::new(20.0, 0.0));
        assert_eq!(q.area(), 200.0);
        assert!(q.is_convex());
        assert_eq!(q.row_span(5.0), Some((0.0, 20.0)));
        assert_eq!(q.row_span(11.0), None);
        assert!(q.contains(Point::new(10.0, 5.0)));
        assert!(!q.contains(Point::new(21.0, 5.0)));
        assert_eq!(q.side_lengths(), [20.0, 10.0, 20.0, 10.0]);
    }

    #[test]
    fn line_fit_and_intersection() {
        let pts: Vec<(f64, f64, f64)> = (0..50).map(|i| (f64::from(i), 2.0 * f64::from(i) + 3.0, 1.0)).collect();
        let l = Line::fit(pts.iter().copied()).unwrap();
        for &(x, y, _) in &pts {
            assert!(l.signed_distance(Point::new(x, y)).abs() < 1e-9);
        }
        let v = Line { nx: 1.0, ny: 0.0, rho: 5.0 };
        let p = l.intersect(&v).unwrap();
        assert!((p.x - 5.0).abs() < 1e-9 && (p.y - 13.0).abs() < 1e-9);
        assert!(v.intersect(&Line { nx: -1.0, ny: 0.0, rho: 2.0 }).is_none());
        assert!(Line::fit(std::iter::once((1.0, 1.0, 1.0))).is_none());
    }
}
