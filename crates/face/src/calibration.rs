//! From a Euclidean embedding distance to a calibrated score and a decision at a chosen
//! false-match rate (FMR).
//!
//! - Score: a logistic curve `1 / (1 + exp(slope × (distance − midpoint)))`, fitted by logistic
//!   regression (classes weighted equally) on labelled genuine and impostor pairs; read as
//!   "probability of the same person with equal priors".
//! - Threshold at an FMR: impostor distances are modelled as a normal distribution (mean and
//!   standard deviation fitted on impostor pairs), so rates below what a small evaluation set
//!   can resolve (1e-3, 1e-4) are extrapolated instead of read off a handful of pairs.
//!
//! [`Calibration::DEFAULT`] holds the values fitted by `cargo xtask eval faces` on the
//! evaluation set (see `docs/bench/faces.md`); the evaluation prints a fresh fit every run.

/// A false-match rate in (0, 0.5].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Fmr(f64);

/// An FMR outside (0, 0.5].
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("false-match rate {0} is not in (0, 0.5]")]
pub struct FmrError(pub f64);

impl Fmr {
    /// Checks the range.
    pub fn parse(rate: f64) -> Result<Self, FmrError> {
        if rate > 0.0 && rate <= 0.5 { Ok(Fmr(rate)) } else { Err(FmrError(rate)) }
    }

    /// The rate.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl Default for Fmr {
    /// 1 in 1,000.
    fn default() -> Self {
        Fmr(1e-3)
    }
}

/// Calibration constants for one model.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Calibration {
    /// Mean impostor distance.
    pub impostor_mean: f64,
    /// Standard deviation of impostor distances.
    pub impostor_sd: f64,
    /// Logistic slope (per distance unit).
    pub slope: f64,
    /// Distance with score 0.5.
    pub midpoint: f64,
}

impl Calibration {
    /// Fitted by `cargo xtask eval faces` on the evaluation set (142 genuine and 96 impostor
    /// pairs of 16 people; impostor normal fit and logistic regression over all pairs).
    /// At FMR 1e-3 the threshold is a distance of 0.630 (dlib's own threshold is 0.6).
    pub const DEFAULT: Calibration =
        Calibration { impostor_mean: 0.8621, impostor_sd: 0.0751, slope: 20.52, midpoint: 0.6203 };

    /// Distance at or below which a pair is a match at this FMR.
    pub fn threshold(&self, fmr: Fmr) -> f64 {
        self.impostor_mean + self.impostor_sd * probit(fmr.get())
    }

    /// Modelled FMR of a threshold.
    pub fn fmr_at(&self, distance: f64) -> f64 {
        normal_cdf((distance - self.impostor_mean) / self.impostor_sd)
    }

    /// Calibrated similarity in [0, 1] (higher = more alike).
    pub fn score(&self, distance: f64) -> f64 {
        1.0 / (1.0 + (self.slope * (distance - self.midpoint)).clamp(-700.0, 700.0).exp())
    }

    /// Fits the impostor normal and the logistic curve to labelled distances.
    /// Returns `None` with fewer than two pairs of either class or degenerate data.
    pub fn fit(genuine: &[f64], impostor: &[f64]) -> Option<Calibration> {
        if genuine.len() < 2 || impostor.len() < 2 {
            return None;
        }
        let n = impostor.len() as f64;
        let mean = impostor.iter().sum::<f64>() / n;
        let sd = (impostor.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let (slope, midpoint) = fit_logistic(genuine, impostor)?;
        (sd > 0.0 && mean.is_finite()).then_some(Calibration { impostor_mean: mean, impostor_sd: sd, slope, midpoint })
    }
}

/// Weighted logistic regression `P(genuine | d) = 1 / (1 + exp(w0 + w1 d))` by Newton's method,
/// each class weighing half. Returns `(slope = w1, midpoint = -w0 / w1)`.
fn fit_logistic(genuine: &[f64], impostor: &[f64]) -> Option<(f64, f64)> {
    let (wg, wi) = (0.5 / genuine.len() as f64, 0.5 / impostor.len() as f64);
    let samples: Vec<(f64, f64, f64)> =
        genuine.iter().map(|&d| (d, 1.0, wg)).chain(impostor.iter().map(|&d| (d, 0.0, wi))).collect();
    // p = sigmoid(a + b d) with a = -w0, b = -w1; a small ridge keeps separable data finite.
    let (mut a, mut b) = (0.0f64, 0.0f64);
    let ridge = 1e-4;
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, ridge, 0.0, ridge);
        gb -= ridge * b;
        ga -= ridge * a;
        for &(d, y, w) in &samples {
            let p = 1.0 / (1.0 + (-(a + b * d)).exp());
            ga += w * (y - p);
            gb += w * (y - p) * d;
            let v = w * p * (1.0 - p);
            haa += v;
            hab += v * d;
            hbb += v * d * d;
        }
        let det = haa * hbb - hab * hab;
        if det.is_nan() || det.abs() <= 1e-300 {
            return None;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        a += da;
        b += db;
        if da.abs() + db.abs() < 1e-10 {
            break;
        }
    }
    let slope = -b;
    (slope > 0.0 && a.is_finite()).then(|| (slope, a / slope))
}

/// Standard normal CDF (Abramowitz–Stegun 7.1.26 erf, absolute error below 1.5e-7).
pub fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.3275911 * x);
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 { 0.5 * (1.0 + erf) } else { 0.5 * (1.0 - erf) }
}

/// Inverse standard normal CDF (Acklam's rational approximation, relative error below 1.2e-9).
pub fn probit(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let low = 0.02425;
    if p < low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -probit(1.0 - p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probit_inverts_the_normal_cdf() {
        for p in [1e-4, 1e-3, 0.01, 0.1, 0.5, 0.8] {
            assert!((normal_cdf(probit(p)) - p).abs() < 2e-7 + 1e-4 * p, "{p}");
        }
        assert!((probit(0.001) + 3.090232).abs() < 1e-5);
        assert!((probit(0.5)).abs() < 1e-12);
    }

    #[test]
    fn fmr_parses_only_sensible_rates() {
        assert!(Fmr::parse(1e-3).is_ok());
        for bad in [0.0, -1.0, 0.6, f64::NAN] {
            assert!(Fmr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn thresholds_get_stricter_with_lower_fmr_and_score_is_monotone() {
        let c = Calibration::DEFAULT;
        let t3 = c.threshold(Fmr::parse(1e-3).unwrap());
        let t2 = c.threshold(Fmr::parse(1e-2).unwrap());
        assert!(t3 < t2 && t2 < c.impostor_mean);
        assert!((c.fmr_at(t2) - 1e-2).abs() < 1e-6);
        assert!(c.score(0.2) > c.score(0.5) && c.score(0.5) > c.score(0.9));
        assert!((c.score(c.midpoint) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn fit_recovers_separated_classes() {
        let genuine: Vec<f64> = (0..50).map(|i| 0.3 + 0.004 * i as f64).collect(); // 0.3..0.5
        let impostor: Vec<f64> = (0..50).map(|i| 0.7 + 0.004 * i as f64).collect(); // 0.7..0.9
        let c = Calibration::fit(&genuine, &impostor).unwrap();
        assert!((c.impostor_mean - 0.798).abs() < 1e-9);
        assert!(c.midpoint > 0.5 && c.midpoint < 0.7, "{c:?}");
        assert!(c.score(0.3) > 0.9 && c.score(0.9) < 0.1, "{c:?}");
        assert!(Calibration::fit(&[0.1], &impostor).is_none());
    }
}
