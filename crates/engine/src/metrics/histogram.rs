//! A log-linear histogram of `u64` values: 976 fixed buckets, 16 per power of two, so any
//! percentile is reported within ±3.1 % of the true value, from 1 ns to centuries, in constant
//! memory and without allocating per value.

/// Sub-buckets per power of two.
const SUB_BITS: u32 = 4;
const SUB: u64 = 1 << SUB_BITS;
/// Buckets of the histogram: values below 16 exactly, then 16 per octave up to 2^64.
pub const HISTOGRAM_BUCKETS: usize = ((64 - SUB_BITS as usize) + 1) * SUB as usize;

/// A log-linear histogram of `u64` values (here: nanoseconds).
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Box<[u64; HISTOGRAM_BUCKETS]>,
    count: u64,
    sum: u128,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: Box::new([0; HISTOGRAM_BUCKETS]),
            count: 0,
            sum: 0,
            max: 0,
        }
    }
}

fn bucket_of(v: u64) -> usize {
    if v < SUB {
        v as usize
    } else {
        let e = 63 - v.leading_zeros(); // >= SUB_BITS
        let sub = (v >> (e - SUB_BITS)) & (SUB - 1);
        (e - SUB_BITS + 1) as usize * SUB as usize + sub as usize
    }
}

/// Smallest and largest value of bucket `i`.
fn bucket_bounds(i: usize) -> (u64, u64) {
    if i < SUB as usize {
        return (i as u64, i as u64);
    }
    let e = (i / SUB as usize) as u32 + SUB_BITS - 1;
    let sub = (i % SUB as usize) as u64;
    let width = 1u64 << (e - SUB_BITS);
    let lo = (SUB + sub) << (e - SUB_BITS);
    (lo, lo.saturating_add(width - 1))
}

impl Histogram {
    pub fn record(&mut self, v: u64) {
        if let Some(c) = self.counts.get_mut(bucket_of(v)) {
            *c += 1;
        }
        self.count += 1;
        self.sum += v as u128;
        self.max = self.max.max(v);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    /// The `q`-quantile (`0 <= q <= 1`): the midpoint of the bucket holding the value of rank
    /// `ceil(q·count)`, never above the maximum recorded; the maximum itself for the top rank.
    /// 0 when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        if rank >= self.count {
            return self.max as f64;
        }
        let mut cumulative = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            cumulative += c;
            if cumulative >= rank {
                let (lo, hi) = bucket_bounds(i);
                let mid = lo as f64 + (hi - lo) as f64 / 2.0;
                return mid.min(self.max as f64);
            }
        }
        self.max as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_tight() {
        // every bucket's bounds contain exactly the values mapped to it
        for v in (0..5000u64).chain([u64::MAX, u64::MAX - 1, 1 << 40, (1 << 40) - 1]) {
            let (lo, hi) = bucket_bounds(bucket_of(v));
            assert!(lo <= v && v <= hi, "{v} not in [{lo}, {hi}]");
            assert!(
                (hi - lo) as f64 <= (lo as f64 / 16.0).max(0.0),
                "bucket of {v} too wide"
            );
        }
        assert!(bucket_of(u64::MAX) < HISTOGRAM_BUCKETS);
        for i in 1..HISTOGRAM_BUCKETS {
            assert_eq!(
                bucket_bounds(i - 1).1 + 1,
                bucket_bounds(i).0,
                "gap before bucket {i}"
            );
        }
    }

    #[test]
    fn quantiles_are_within_the_bucket_resolution() {
        let mut h = Histogram::default();
        for us in 1..=1000u64 {
            h.record(us * 1000);
        }
        for (q, exact) in [(0.5, 500_000.0), (0.9, 900_000.0), (0.99, 990_000.0)] {
            let got = h.quantile(q);
            assert!(
                (got - exact).abs() / exact < 0.035,
                "q{q}: {got} vs {exact}"
            );
        }
        assert_eq!(h.quantile(1.0), 1_000_000.0, "capped at the maximum");
        assert_eq!(h.count(), 1000);
        assert!((h.mean() - 500_500.0).abs() < 1e-6);
        assert_eq!(Histogram::default().quantile(0.5), 0.0);
    }
}
