//! Exact comparisons of products of a float and a whole number, so that
//! rounding and range decisions are made on the true values of the inputs,
//! with no slack for noise: `a × n` against `b × d`, computed in 128 bits.

use std::cmp::Ordering;

/// A finite, non-negative `f64` as `mantissa × 2^exponent`.
fn decompose(value: f64) -> (u64, i32) {
    let bits = value.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), biased - 1075)
    }
}

/// Compare `a × n` with `b × d` exactly. `a` and `b` must be finite and
/// non-negative (callers check every quantity on the way in).
pub(crate) fn compare_products(a: f64, n: u64, b: f64, d: u64) -> Ordering {
    let (ma, ea) = decompose(a);
    let (mb, eb) = decompose(b);
    // 53-bit mantissa × 64-bit integer < 2^117: no overflow.
    let left = u128::from(ma) * u128::from(n);
    let right = u128::from(mb) * u128::from(d);
    match (left == 0, right == 0) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        (false, false) => {}
    }
    if ea >= eb {
        shifted_compare(left, ea.abs_diff(eb), right)
    } else {
        shifted_compare(right, eb.abs_diff(ea), left).reverse()
    }
}

/// Compare `value × 2^shift` with `other`, for non-zero `value`.
fn shifted_compare(value: u128, shift: u32, other: u128) -> Ordering {
    if shift >= value.leading_zeros() {
        // value × 2^shift needs more than 128 bits; other fits in 128.
        Ordering::Greater
    } else {
        (value << shift).cmp(&other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_compare_exactly() {
        // 5.75 mL: 71.875e6 cells at 12.5e6 cells/mL is exactly 57.5
        // increments of 100 µL: 2 × 71.875e6 × 1000 = 12.5e6 × 115 × 100.
        assert_eq!(
            compare_products(71.875e6, 2000, 12.5e6, 115 * 100),
            Ordering::Equal
        );
        assert_eq!(compare_products(0.1, 3, 0.3, 1), Ordering::Greater); // 0.1 is above 1/10 in binary
        assert_eq!(compare_products(0.5, 2, 1.0, 1), Ordering::Equal);
        assert_eq!(
            compare_products(1e300, 1, 1e-300, u64::MAX),
            Ordering::Greater
        );
        assert_eq!(compare_products(1e-300, u64::MAX, 1e300, 1), Ordering::Less);
        assert_eq!(compare_products(0.0, 5, 0.0, 7), Ordering::Equal);
        assert_eq!(compare_products(5e-324, 1, 0.0, 1), Ordering::Greater);
        assert_eq!(compare_products(3.0, 0, 1.0, 1), Ordering::Less);
    }
}
