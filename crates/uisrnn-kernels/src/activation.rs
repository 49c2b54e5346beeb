//! `exp`, `sigmoid` and `tanh` in plain arithmetic the compiler vectorises (the C
//! library's `expf`/`tanhf` are called one value at a time, and at hidden size 512
//! the gate arithmetic of a step cost as much as its matrix product).
//!
//! Accuracy: `exp` within 2 ulp of the correctly rounded value over the whole float
//! range; `sigmoid` and `tanh` within 2e-7 absolute (tests below). The `_fused`
//! versions (for code compiled with FMA: the LSTM cell) are within 1.3 ulp, 1.8e-7
//! and 2e-7.

const LOG2_E: f32 = std::f32::consts::LOG2_E;
// ln 2 split in a part with few mantissa bits (exact products) and the rest.
const LN2_HIGH: f32 = 0.693_359_4;
const LN2_LOW: f32 = -2.121_944_4e-4;
// 1.5 * 2^23: adding and subtracting it rounds to the nearest integer.
const ROUND: f32 = 12_582_912.0;
// The input range of `exp` and `exp_fused`.
const LOWEST: f32 = -87.3;
const HIGHEST: f32 = 88.7;

/// `e^x` for x in [-87.3, 88.7]; x is clamped to that range, so below it the result
/// is about 1.2e-38 (not 0) and above it about 3.3e38 (not infinity).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(LOWEST, HIGHEST);
    let shifted = x * LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HIGH - n * LN2_LOW;
    // e^r on [-ln2/2, ln2/2]: Taylor polynomial of degree 7 (Horner).
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    times_two_to_the(p, shifted, n)
}

/// `p 2^n`, with `n` the integer in `shifted = n + ROUND`: 2^n from the exponent
/// bits; n is in [-126, 128] after the clamp, and 2^128 is reached only at the top
/// of the range, where p < 1 keeps the result finite. n as an integer from the bits
/// of `shifted` (whose last place is 1), not by `n as i32`: the saturating float
/// conversion is not vectorised.
#[inline(always)]
fn times_two_to_the(p: f32, shifted: f32, n: f32) -> f32 {
    let n_int = (shifted.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let scale = f32::from_bits(((n_int.wrapping_add(127)).clamp(1, 254) as u32) << 23);
    let adjust = if n > 127.0 { 2.0 } else { 1.0 };
    p * scale * adjust
}

/// The logistic function `1 / (1 + e^-x)`.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// The hyperbolic tangent: `1 - 2 / (e^2x + 1)`, and a Taylor polynomial near 0,
/// where that form would lose digits to cancellation.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let x2 = x * x;
    let small = x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0))));
    let large = 1.0 - 2.0 / (exp(2.0 * x) + 1.0);
    if x.abs() < 0.0625 { small } else { large }
}

/// [`exp`] with fused multiply-adds: the same range reduction and polynomial in
/// fewer instructions (within 1.3 ulp; measured 0.64). Meant for code compiled with
/// FMA ([`crate::widest_vectors!`]'s AVX2 and AVX-512 versions, AArch64); elsewhere
/// each multiply-add is a library call, slow but the same bits.
#[inline(always)]
pub fn exp_fused(x: f32) -> f32 {
    let x = x.clamp(LOWEST, HIGHEST);
    let shifted = x.mul_add(LOG2_E, ROUND);
    let n = shifted - ROUND;
    let r = (-n).mul_add(LN2_LOW, (-n).mul_add(LN2_HIGH, x));
    let p = r.mul_add(1.0 / 5040.0, 1.0 / 720.0);
    let p = r.mul_add(p, 1.0 / 120.0);
    let p = r.mul_add(p, 1.0 / 24.0);
    let p = r.mul_add(p, 1.0 / 6.0);
    let p = r.mul_add(p, 0.5);
    let p = r.mul_add(p, 1.0);
    let p = r.mul_add(p, 1.0);
    times_two_to_the(p, shifted, n)
}

/// [`sigmoid`] through [`exp_fused`].
#[inline(always)]
pub fn sigmoid_fused(x: f32) -> f32 {
    1.0 / (1.0 + exp_fused(-x))
}

/// [`tanh`] through [`exp_fused`], as `2 sigmoid(2x) - 1` (absolute, not relative,
/// accuracy near 0).
#[inline(always)]
pub fn tanh_fused(x: f32) -> f32 {
    2.0 / (1.0 + exp_fused(-2.0 * x)) - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> impl Iterator<Item = f32> {
        (-200_000..=200_000).map(|i| i as f32 * 0.0005)
    }

    #[test]
    fn exp_is_within_two_ulp() {
        for x in grid()
            .filter(|x| x.abs() <= 87.0)
            .chain([-87.0, -50.0, 50.0, 88.0, 88.5])
        {
            let want = (x as f64).exp();
            let got = exp(x) as f64;
            let ulp = (want as f32).abs() * f32::EPSILON;
            assert!(
                (got - want).abs() <= 2.0 * ulp as f64,
                "exp({x}): {got} vs {want}"
            );
        }
        assert!(exp(1000.0).is_finite() && exp(1000.0) > 3e38);
        assert!(exp(-1000.0) > 0.0 && exp(-1000.0) < 1.3e-38);
    }

    #[test]
    fn sigmoid_and_tanh_are_within_2e_7() {
        for x in grid() {
            let sigmoid_want = 1.0 / (1.0 + (-(x as f64)).exp());
            let tanh_want = (x as f64).tanh();
            assert!(
                (sigmoid(x) as f64 - sigmoid_want).abs() <= 2e-7,
                "sigmoid({x})"
            );
            assert!((tanh(x) as f64 - tanh_want).abs() <= 2e-7, "tanh({x})");
        }
        assert!(sigmoid(-200.0) < 1e-37 && sigmoid(200.0) == 1.0);
        assert!(tanh(50.0) == 1.0 && tanh(-50.0) == -1.0);
    }

    #[test]
    fn fused_versions_are_as_accurate() {
        for x in grid() {
            let exp_want = (x as f64).exp();
            if x.abs() <= 87.0 {
                let ulp = (exp_want as f32).abs() * f32::EPSILON;
                assert!(
                    (exp_fused(x) as f64 - exp_want).abs() <= 1.3 * ulp as f64,
                    "exp({x})"
                );
            }
            let sigmoid_want = 1.0 / (1.0 + (-(x as f64)).exp());
            let tanh_want = (x as f64).tanh();
            let e1 = (sigmoid_fused(x) as f64 - sigmoid_want).abs();
            let e2 = (tanh_fused(x) as f64 - tanh_want).abs();
            // Measured: 8.8e-8 and 1.76e-7, as `sigmoid` and `tanh`.
            assert!(e1 <= 1.8e-7, "sigmoid({x}) {e1}");
            assert!(e2 <= 2e-7, "tanh({x}) {e2}");
        }
        assert!(sigmoid_fused(-200.0) < 1e-37 && sigmoid_fused(200.0) == 1.0);
        assert!(tanh_fused(50.0) == 1.0 && tanh_fused(-50.0) == -1.0);
    }
}
