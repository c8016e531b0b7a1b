//! The drift window: the most recent scored vectors with their composite scores, compared with
//! the active model's training reference by the drift check.
//!
//! A fixed-size ring (5000 rows by default, 2.4 MB): pushing is a copy into the next slot, so the
//! request path never allocates for it. Each row remembers the model version that scored it;
//! after a model swap the drift check rescores rows of other versions with the active model
//! (off the request path), so the score terms always compare one model's scores with that same
//! model's reference.

use anomaly_core::N_FEATURES;

/// A ring of the last `capacity` scored vectors.
#[derive(Debug)]
pub struct DriftWindow {
    capacity: usize,
    features: Vec<f64>,
    composites: Vec<f64>,
    versions: Vec<u32>,
    timestamps: Vec<i64>,
    /// Next slot to write.
    head: usize,
    len: usize,
}

/// A copy of the window, oldest row first, for the drift check.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftSample {
    /// Rows × `N_FEATURES`, row-major.
    pub features: Vec<f64>,
    pub composites: Vec<f64>,
    pub versions: Vec<u32>,
    pub timestamps: Vec<i64>,
}

impl DriftSample {
    pub fn rows(&self) -> usize {
        self.composites.len()
    }
}

impl DriftWindow {
    /// An empty ring of `capacity` rows (allocated up front).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        DriftWindow {
            capacity,
            features: vec![0.0; capacity * N_FEATURES],
            composites: vec![0.0; capacity],
            versions: vec![0; capacity],
            timestamps: vec![0; capacity],
            head: 0,
            len: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a row, overwriting the oldest when full.
    pub fn push(&mut self, ts: i64, x: &[f64; N_FEATURES], composite: f64, version: u32) {
        let i = self.head;
        self.features[i * N_FEATURES..(i + 1) * N_FEATURES].copy_from_slice(x);
        self.composites[i] = composite;
        self.versions[i] = version;
        self.timestamps[i] = ts;
        self.head = (self.head + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
    }

    /// Forgets every row.
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// Copies the rows out, oldest first.
    pub fn sample(&self) -> DriftSample {
        let start = (self.head + self.capacity - self.len) % self.capacity;
        let mut out = DriftSample {
            features: Vec::with_capacity(self.len * N_FEATURES),
            composites: Vec::with_capacity(self.len),
            versions: Vec::with_capacity(self.len),
            timestamps: Vec::with_capacity(self.len),
        };
        for k in 0..self.len {
            let i = (start + k) % self.capacity;
            out.features
                .extend_from_slice(&self.features[i * N_FEATURES..(i + 1) * N_FEATURES]);
            out.composites.push(self.composites[i]);
            out.versions.push(self.versions[i]);
            out.timestamps.push(self.timestamps[i]);
        }
        out
    }

    /// Heap memory in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.capacity * (N_FEATURES * 8 + 8 + 4 + 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_rows_in_order() {
        let mut w = DriftWindow::new(3);
        assert!(w.sample().composites.is_empty());
        for i in 0..5 {
            w.push(i, &[i as f64; N_FEATURES], i as f64 / 10.0, i as u32 % 2);
        }
        assert_eq!(w.len(), 3);
        let s = w.sample();
        assert_eq!(s.timestamps, vec![2, 3, 4]);
        assert_eq!(s.composites, vec![0.2, 0.3, 0.4]);
        assert_eq!(s.versions, vec![0, 1, 0]);
        assert_eq!(s.features[0], 2.0);
        assert_eq!(s.features[2 * N_FEATURES + 58], 4.0);
        w.clear();
        assert_eq!(w.sample().rows(), 0);
        w.push(9, &[9.0; N_FEATURES], 0.9, 3);
        assert_eq!(w.sample().timestamps, vec![9]);
    }
}
