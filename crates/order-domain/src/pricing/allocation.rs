//! Largest-remainder allocation: splitting an order-level amount over its lines so that the
//! shares add up exactly, to the cent.
//!
//! A fee computed on the whole order is rarely an exact multiple of the lines' weights; rounding
//! each share independently would leave a cent over or missing. The largest-remainder (Hamilton)
//! method floors every share and then hands the leftover cents, one each, to the lines with the
//! largest fractional parts (ties to the earlier line), so refunds of single lines reverse exactly
//! what those lines were charged.

/// Splits `total` (≥ 0) over `weights` (each ≥ 0) in proportion, summing exactly to `total`.
///
/// When every weight is zero the lines share equally. An empty `weights` yields an empty vector
/// (and `total` must then be zero for the sum to hold; callers never allocate over no lines).
pub fn allocate(total: i64, weights: &[i64]) -> Vec<i64> {
    if weights.is_empty() {
        return Vec::new();
    }
    let weight_sum: i128 = weights.iter().map(|w| i128::from(*w.max(&0))).sum();
    let (weights, weight_sum): (Vec<i128>, i128) = if weight_sum == 0 {
        (vec![1; weights.len()], weights.len() as i128)
    } else {
        (
            weights.iter().map(|w| i128::from(*w.max(&0))).collect(),
            weight_sum,
        )
    };
    let total = i128::from(total);
    let mut shares: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (index, weight) in weights.iter().enumerate() {
        let exact = total * weight;
        shares.push(exact.div_euclid(weight_sum));
        remainders.push((exact.rem_euclid(weight_sum), index));
    }
    let mut leftover = total - shares.iter().sum::<i128>();
    // Largest remainder first; the earlier line wins a tie so the result is deterministic.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, index) in remainders {
        if leftover == 0 {
            break;
        }
        shares[index] += 1;
        leftover -= 1;
    }
    shares
        .into_iter()
        // Each share lies between 0 and `total`, which came from an i64.
        .map(|share| i64::try_from(share).unwrap_or(i64::MAX))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftover_cents_go_to_the_largest_remainders() {
        // 100 over three equal lines: 33.33 each, one cent left → the first line.
        assert_eq!(allocate(100, &[1, 1, 1]), vec![34, 33, 33]);
        // 10 over weights 1:2 → 3.33 and 6.67: the second has the larger remainder.
        assert_eq!(allocate(10, &[1, 2]), vec![3, 7]);
    }

    #[test]
    fn zero_weights_share_equally() {
        assert_eq!(allocate(5, &[0, 0]), vec![3, 2]);
    }

    #[test]
    fn exact_splits_stay_exact() {
        assert_eq!(allocate(1000, &[10000, 10000]), vec![500, 500]);
        assert_eq!(allocate(0, &[3, 4]), vec![0, 0]);
    }
}
