#!/usr/bin/env bash
# Evaluates the Isolation Forest on the ADBench data sets and prints a markdown table next to
# scikit-learn's figures (sklearn_iforest_auc.csv in the same directory).
#
#   scripts/eval-adbench.sh [--seeds K]
#
#   --seeds K   seeds per data set (default 5, as the scikit-learn reference)
#
# Data: ${ADBENCH_DIR:-../shared/datasets/adbench} relative to the repository root; when it is
# absent the script says so and exits 0. Builds the release binary first. Settings are
# scikit-learn's defaults: 100 trees, 256 rows per tree, depth auto (ceil(log2(256)) = 8).
# Timings are medians over seeds on this machine; ours train with rayon on every core.
set -euo pipefail
print_usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
SCRIPT_NAME=eval-adbench
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

seeds=5
while [ $# -gt 0 ]; do
    case "$1" in
    --seeds)
        [ $# -ge 2 ] || die "--seeds needs a value"
        seeds="$2"
        shift 2
        ;;
    -h | --help)
        print_usage
        exit 0
        ;;
    *) die "unknown argument: $1 (see --help)" ;;
    esac
done

cd "$ML_ANOMALY_ROOT"
dir="${ADBENCH_DIR:-../shared/datasets/adbench}"
if [ ! -d "$dir" ]; then
    log "no ADBench data at $dir (set ADBENCH_DIR): nothing to evaluate"
    exit 0
fi
reference="$dir/sklearn_iforest_auc.csv"

log "building the release binary"
cargo build --release --quiet --bin ml-anomaly
bin="${CARGO_TARGET_DIR:-$ML_ANOMALY_ROOT/target}/release/ml-anomaly"

# field JSON NAME: the value of a top-level scalar field in a one-line JSON object.
field() { sed -n "s/.*\"$2\":\\([^,}]*\\).*/\\1/p" <<<"$1" | tr -d '"'; }

echo "| dataset | rows | features | ROC-AUC (ours, ${seeds} seeds) | ROC-AUC (sklearn, 5 seeds) | delta | fit ms ours / sklearn | score ms ours / sklearn |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
shopt -s nullglob
for csv in "$dir"/*.csv; do
    name="$(basename "$csv" .csv)"
    [ "$name" = "sklearn_iforest_auc" ] && continue
    json="$("$bin" eval --csv "$csv" --trees 100 --sample-size 256 --max-depth auto --seeds "$seeds")"
    auc="$(field "$json" roc_auc)"
    std="$(field "$json" roc_auc_std)"
    rows="$(field "$json" rows)"
    features="$(field "$json" features)"
    fit="$(field "$json" fit_ms)"
    score="$(field "$json" score_ms)"
    ref=""
    [ -f "$reference" ] && ref="$(awk -F, -v d="$name" '$1 == d { print $5, $6, $7, $8 }' "$reference")"
    if [ -n "$ref" ]; then
        read -r s_auc s_std s_fit s_score <<<"$ref"
        awk -v n="$name" -v r="$rows" -v f="$features" -v a="$auc" -v s="$std" -v sa="$s_auc" -v ss="$s_std" \
            -v fi="$fit" -v sf="$s_fit" -v sc="$score" -v ssc="$s_score" 'BEGIN {
            printf "| %s | %d | %d | %.4f ± %.4f | %.4f ± %.4f | %+.4f | %.1f / %.1f | %.1f / %.1f |\n",
                n, r, f, a, s, sa, ss, a - sa, fi, sf, sc, ssc }'
    else
        awk -v n="$name" -v r="$rows" -v f="$features" -v a="$auc" -v s="$std" -v fi="$fit" -v sc="$score" 'BEGIN {
            printf "| %s | %d | %d | %.4f ± %.4f | - | - | %.1f / - | %.1f / - |\n", n, r, f, a, s, fi, sc }'
    fi
done
