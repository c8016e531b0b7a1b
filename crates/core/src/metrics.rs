//! Evaluation metrics used by the CLI, the quality benchmarks and the tests.

/// Area under the ROC curve of `scores` (higher = more anomalous) against binary `labels`
/// (`true` = anomaly), computed from ranks (Mann–Whitney U) with ties given their average rank,
/// which equals the trapezoidal ROC-AUC scikit-learn reports.
///
/// Returns `None` when the labels contain only one class or the lengths differ.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    if scores.len() != labels.len() {
        return None;
    }
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && scores[order[j]] == scores[order[i]] {
            j += 1;
        }
        // ranks i+1 ..= j share their mean
        let mean_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum_pos += mean_rank * order[i..j].iter().filter(|&&k| labels[k]).count() as f64;
        i = j;
    }
    let p = positives as f64;
    let u = rank_sum_pos - p * (p + 1.0) / 2.0;
    Some(u / (p * negatives as f64))
}

/// The score threshold at which at most `fpr` of the negatives score strictly above it, and the
/// fraction of positives above it (detection rate at that false-positive rate).
pub fn detection_at_fpr(scores: &[f64], labels: &[bool], fpr: f64) -> Option<(f64, f64)> {
    let mut neg: Vec<f64> = scores
        .iter()
        .zip(labels)
        .filter(|(_, &l)| !l)
        .map(|(&s, _)| s)
        .collect();
    let pos: Vec<f64> = scores
        .iter()
        .zip(labels)
        .filter(|(_, &l)| l)
        .map(|(&s, _)| s)
        .collect();
    if neg.is_empty() || pos.is_empty() || !(0.0..=1.0).contains(&fpr) {
        return None;
    }
    neg.sort_by(|a, b| b.total_cmp(a)); // descending
    let allowed = (fpr * neg.len() as f64).floor() as usize;
    // threshold = the (allowed+1)-th largest negative: exactly `allowed` or fewer lie above it
    let threshold = neg[allowed.min(neg.len() - 1)];
    let detected = pos.iter().filter(|&&s| s > threshold).count();
    Some((threshold, detected as f64 / pos.len() as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_inverted_rankings() {
        let labels = [false, false, true, true];
        assert_eq!(roc_auc(&[0.1, 0.2, 0.8, 0.9], &labels), Some(1.0));
        assert_eq!(roc_auc(&[0.9, 0.8, 0.2, 0.1], &labels), Some(0.0));
    }

    #[test]
    fn ties_count_half() {
        // every score equal: AUC is exactly one half
        assert_eq!(
            roc_auc(&[0.5; 6], &[true, false, true, false, false, true]),
            Some(0.5)
        );
        // sklearn.metrics.roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) == 0.75
        assert_eq!(
            roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]),
            Some(0.75)
        );
    }

    #[test]
    fn one_class_is_none() {
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(roc_auc(&[0.1], &[true, false]), None);
    }

    #[test]
    fn detection_rate_at_fpr() {
        let scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.95, 0.05];
        let labels = [
            false, false, false, false, false, false, false, false, false, false, true, true,
        ];
        // 10 negatives, fpr 0.1 -> one negative may lie above: threshold 0.9
        let (t, rate) = detection_at_fpr(&scores, &labels, 0.1).unwrap();
        assert_eq!(t, 0.9);
        assert_eq!(rate, 0.5);
    }
}
