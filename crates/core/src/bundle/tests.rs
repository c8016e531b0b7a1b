use ndarray::Array2;
use rand::Rng as _;
use rand_distr::{Distribution, Normal};

use super::*;
use crate::explain::AttributionMethod;
use crate::policy::Action;
use crate::FEATURE_NAMES;

/// `rows` points on a 5-factor manifold in 59 dimensions with noise; deterministic.
fn normal_traffic(rows: usize, seed: u64) -> Array2<f64> {
    let mut rng = crate::rng::seeded(seed);
    let noise = Normal::new(0.0, 0.1).unwrap();
    let loadings: Vec<f64> = (0..5 * 59).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut values = Vec::with_capacity(rows * 59);
    for _ in 0..rows {
        let factors: Vec<f64> = (0..5).map(|_| rng.random_range(-1.0..1.0)).collect();
        for j in 0..59 {
            values.push(
                (0..5)
                    .map(|k| factors[k] * loadings[k * 59 + j])
                    .sum::<f64>()
                    + noise.sample(&mut rng),
            );
        }
    }
    Array2::from_shape_vec((rows, 59), values).unwrap()
}

fn small_config() -> TrainConfig {
    let mut config = TrainConfig::default();
    config.autoencoder.epochs = 20;
    config
}

fn trained(seed: u64) -> (ModelBundle, Array2<f64>) {
    let data = normal_traffic(2000, 11);
    (
        ModelBundle::train(data.view(), &small_config(), seed).unwrap(),
        data,
    )
}

#[test]
fn contamination_is_the_training_alarm_rate() {
    let (bundle, data) = trained(1);
    let scores = bundle.score_batch(data.view()).unwrap();
    let rate = scores.iter().filter(|s| s.is_anomaly).count() as f64 / scores.len() as f64;
    assert!((rate - 0.05).abs() <= 0.01, "training alarm rate {rate}");
    assert!((rate - bundle.training.training_alarm_rate).abs() < 1e-12);
}

#[test]
fn far_points_score_higher_and_block() {
    let (bundle, data) = trained(2);
    let typical = bundle.score(data.row(0).as_slice().unwrap()).unwrap();
    let mut outlier = data.row(0).to_vec();
    for v in outlier.iter_mut() {
        *v += 25.0;
    }
    let far = bundle.score(&outlier).unwrap();
    assert!(far.composite > typical.composite);
    assert!(
        far.isolation_forest > 0.85 && far.autoencoder > 0.85,
        "{far:?}"
    );
    assert_eq!(far.action, Action::Block);
    assert!(far.is_anomaly);
}

#[test]
fn attributions_sum_to_the_composite_minus_the_base_value() {
    let (bundle, data) = trained(3);
    let mut outlier = data.row(5).to_vec();
    outlier[7] += 6.0;
    outlier[30] -= 4.0;
    for x in [data.row(1).to_vec(), data.row(2).to_vec(), outlier] {
        for method in [AttributionMethod::Fast, AttributionMethod::Exact] {
            let a = bundle.attribution(&x, method).unwrap();
            let sum: f64 = a.contributions.iter().sum();
            assert!(
                (a.base_value + sum - a.composite).abs() < 1e-9,
                "{method:?}: {} + {sum} != {}",
                a.base_value,
                a.composite
            );
            assert_eq!(a.composite, bundle.score(&x).unwrap().composite);
        }
    }
}

#[test]
fn the_perturbed_feature_tops_the_explanation() {
    let (bundle, data) = trained(4);
    let mut x = data.row(9).to_vec();
    x[12] += 30.0;
    for method in [AttributionMethod::Fast, AttributionMethod::Exact] {
        let p = bundle.predict(&x, method, 10).unwrap();
        assert_eq!(p.explanation.top_features.len(), 10);
        assert_eq!(
            p.explanation.top_features[0].feature, FEATURE_NAMES[12],
            "{method:?}"
        );
        assert!(p.explanation.top_features[0].contribution > 0.0);
        assert!(p
            .explanation
            .explanation
            .contains(&crate::explain::labels::label(FEATURE_NAMES[12])));
    }
}

#[test]
fn json_and_binary_round_trip_exactly() {
    let (bundle, data) = trained(5);
    let from_json = ModelBundle::from_json(&bundle.to_json()).unwrap();
    assert_eq!(from_json.scaler, bundle.scaler, "scaler");
    assert!(
        from_json.isolation_forest == bundle.isolation_forest,
        "forest"
    );
    assert!(from_json.autoencoder == bundle.autoencoder, "autoencoder");
    assert!(from_json.calibration == bundle.calibration, "calibration");
    assert!(
        from_json.drift_reference == bundle.drift_reference,
        "drift reference"
    );
    assert!(from_json.training == bundle.training, "training");
    assert!(from_json == bundle);
    let bytes = bundle.to_bytes();
    let from_bytes = ModelBundle::from_bytes(&bytes).unwrap();
    assert_eq!(from_bytes, bundle);
    let x = data.row(3).to_vec();
    assert_eq!(from_json.score(&x).unwrap(), bundle.score(&x).unwrap());
    assert_eq!(from_bytes.score(&x).unwrap(), bundle.score(&x).unwrap());
}

#[test]
fn default_model_fits_the_size_budget() {
    let (bundle, _) = trained(6);
    let size = bundle.to_bytes().len();
    assert!(size <= 512 * 1024, "binary bundle is {size} bytes");
}

#[test]
fn training_is_deterministic_per_seed() {
    let data = normal_traffic(500, 3);
    let a = ModelBundle::train(data.view(), &small_config(), 9).unwrap();
    let b = ModelBundle::train(data.view(), &small_config(), 9).unwrap();
    let c = ModelBundle::train(data.view(), &small_config(), 10).unwrap();
    assert_eq!(a.to_bytes(), b.to_bytes());
    assert_ne!(a.to_bytes(), c.to_bytes());
}

#[test]
fn corrupt_and_foreign_bundles_are_clear_errors() {
    let (bundle, _) = trained(7);
    let bytes = bundle.to_bytes();
    let msg = |r: Result<ModelBundle>| r.unwrap_err().to_string();

    assert!(msg(ModelBundle::from_bytes(b"PK\x03\x04 zip file")).contains("bad magic"));
    let mut future = bytes.clone();
    future[4] = 99;
    assert_eq!(
        msg(ModelBundle::from_bytes(&future)),
        "unsupported model schema version 99 (this build reads version 2)"
    );
    assert!(
        msg(ModelBundle::from_bytes(&bytes[..bytes.len() / 2])).contains("malformed binary bundle")
    );

    assert!(msg(ModelBundle::from_json("{\"hello\": 1}")).contains("not a model bundle"));
    assert!(msg(ModelBundle::from_json("not json")).contains("not a JSON model bundle"));
    let json = bundle
        .to_json()
        .replacen("\"schemaVersion\":2", "\"schemaVersion\":3", 1);
    assert!(msg(ModelBundle::from_json(&json)).contains("unsupported model schema version 3"));

    let mut value: serde_json::Value = serde_json::from_str(&bundle.to_json()).unwrap();
    value["featureNames"].as_array_mut().unwrap().pop();
    let err = msg(ModelBundle::from_json(&value.to_string()));
    assert!(
        err.contains("has 59 features, the bundle names 58"),
        "{err}"
    );

    let mut value: serde_json::Value = serde_json::from_str(&bundle.to_json()).unwrap();
    value["baseline"]["forestPathLength"] = serde_json::json!(1e308);
    value["baseline"]["autoencoderError"] = serde_json::Value::Null;
    assert!(msg(ModelBundle::from_json(&value.to_string())).contains("malformed bundle"));
}

#[test]
fn schema_1_bundles_still_load_without_a_decision_layer() {
    let (mut bundle, data) = trained(9);
    assert!(bundle.decision.is_none());
    bundle.schema_version = 1;
    // Binary: schema 1 is schema 2 without the trailing decision (postcard writes `None` as one
    // zero byte at the end).
    let mut bytes = bundle.to_bytes();
    assert_eq!(bytes.pop(), Some(0));
    bytes[4..8].copy_from_slice(&1u32.to_le_bytes());
    let old = ModelBundle::from_bytes(&bytes).unwrap();
    assert_eq!(old, bundle);
    assert_eq!(
        old.score(&data.row(0).to_vec()).unwrap(),
        bundle.score(&data.row(0).to_vec()).unwrap()
    );
    // JSON: without the field
    let mut value: serde_json::Value = serde_json::from_str(&bundle.to_json()).unwrap();
    value.as_object_mut().unwrap().remove("decision");
    assert_eq!(ModelBundle::from_json(&value.to_string()).unwrap(), bundle);
}

#[test]
fn bad_vectors_are_rejected() {
    let (bundle, data) = trained(8);
    assert_eq!(
        bundle.score(&[1.0, 2.0]).unwrap_err().to_string(),
        "expected 59 features, got 2"
    );
    let mut x = data.row(0).to_vec();
    x[4] = f64::NAN;
    assert!(bundle
        .score(&x)
        .unwrap_err()
        .to_string()
        .contains("non-finite value NaN in feature vector at index 4"));
}

#[test]
fn training_rejects_bad_input() {
    let config = small_config();
    assert!(ModelBundle::train(Array2::zeros((3, 59)).view(), &config, 1).is_err());
    let mut data = normal_traffic(100, 1);
    data[[50, 3]] = f64::INFINITY;
    assert!(ModelBundle::train(data.view(), &config, 1)
        .unwrap_err()
        .to_string()
        .contains("training data"));
    let named = TrainConfig {
        feature_names: Some(vec!["a".into()]),
        ..small_config()
    };
    assert!(ModelBundle::train(normal_traffic(100, 1).view(), &named, 1).is_err());
}

#[test]
fn split_attribution_matches_predict_and_top_k_is_ordered() {
    let (bundle, data) = trained(12);
    let mut x = data.row(4).to_vec();
    x[20] += 9.0;
    let mut ws = bundle.workspace();
    let scores = bundle
        .attribute_with(&x, AttributionMethod::Fast, &mut ws)
        .unwrap();
    let late = bundle.explanation_from(&x, &scores, &ws, AttributionMethod::Fast, 5);
    let direct = bundle.predict(&x, AttributionMethod::Fast, 5).unwrap();
    assert_eq!(direct.scores, scores);
    assert_eq!(direct.explanation, late);
    let mut top = [usize::MAX; 5];
    assert_eq!(ws.top_contributions(&mut top), 5);
    let names: Vec<&str> = top
        .iter()
        .map(|&j| bundle.feature_names[j].as_str())
        .collect();
    let expected: Vec<&str> = late
        .top_features
        .iter()
        .map(|f| f.feature.as_str())
        .collect();
    assert_eq!(names, expected);
}

mod extremes {
    //! Any bundle validation accepts scores finite on any finite input: the bounds of
    //! `ModelBundle::validate` are what makes that hold, so the test tries the numbers an
    //! attacker would put in a hand-made bundle (issue: one decoder weight at 1e308 scored an
    //! infinite reconstruction error and a NaN attribution).
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;
    use std::sync::OnceLock;

    const EXTREMES: [f64; 12] = [
        1e308, -1e308, 1e200, -1e200, 1e12, -1e12, 1e7, -1e7, 1e-300, -1e-300, 0.0, 5e-324,
    ];

    fn base() -> &'static (Value, Vec<Vec<f64>>) {
        static BASE: OnceLock<(Value, Vec<Vec<f64>>)> = OnceLock::new();
        BASE.get_or_init(|| {
            let (bundle, data) = trained(21);
            let value: Value = serde_json::from_str(&bundle.to_json()).unwrap();
            let mut inputs: Vec<Vec<f64>> = (0..3).map(|i| data.row(i).to_vec()).collect();
            for v in [1e308, -1e308, 0.0, 5e-324] {
                inputs.push(vec![v; 59]);
            }
            inputs.push(
                (0..59)
                    .map(|j| if j % 2 == 0 { 1e308 } else { -1e308 })
                    .collect(),
            );
            (value, inputs)
        })
    }

    /// Paths (JSON pointers) of every number under `v`.
    fn numbers(v: &Value, path: String, out: &mut Vec<String>) {
        match v {
            Value::Number(_) => out.push(path),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    numbers(item, format!("{path}/{i}"), out);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    numbers(item, format!("{path}/{k}"), out);
                }
            }
            _ => {}
        }
    }

    /// The numbers of each top-level part, so that every part gets tried (the forest alone holds
    /// most of the bundle's numbers).
    fn parts() -> &'static Vec<Vec<String>> {
        static PARTS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
        PARTS.get_or_init(|| {
            let (value, _) = base();
            let mut parts = Vec::new();
            for (key, item) in value.as_object().unwrap() {
                let mut paths = Vec::new();
                numbers(item, format!("/{key}"), &mut paths);
                if !paths.is_empty() {
                    parts.push(paths);
                }
            }
            parts
        })
    }

    fn check_finite(bundle: &ModelBundle, x: &[f64]) -> std::result::Result<(), String> {
        let s = bundle.score(x).map_err(|e| format!("score failed: {e}"))?;
        let values = [
            s.forest_path_length,
            s.forest_raw,
            s.autoencoder_raw,
            s.isolation_forest,
            s.autoencoder,
            s.composite,
            s.confidence,
            s.model_agreement,
        ];
        if values.iter().any(|v| !v.is_finite()) {
            return Err(format!("scores {s:?}"));
        }
        for method in [AttributionMethod::Fast, AttributionMethod::Exact] {
            let a = bundle
                .attribution(x, method)
                .map_err(|e| format!("attribution failed: {e}"))?;
            let all = a
                .contributions
                .iter()
                .chain(&a.isolation_forest)
                .chain(&a.autoencoder)
                .chain([&a.base_value, &a.composite]);
            if let Some(v) = all.into_iter().find(|v| !v.is_finite()) {
                return Err(format!("{method:?} attribution has {v}"));
            }
            let p = bundle
                .predict(x, method, 5)
                .map_err(|e| format!("predict failed: {e}"))?;
            if p.explanation
                .top_features
                .iter()
                .any(|f| !f.contribution.is_finite())
            {
                return Err(format!("{method:?} explanation {:?}", p.explanation));
            }
        }
        Ok(())
    }

    #[test]
    fn the_reported_decoder_weight_is_refused() {
        let (value, _) = base();
        let mut v = value.clone();
        *v.pointer_mut("/autoencoder/decoderWeights/0").unwrap() = serde_json::json!(1e308);
        let err = ModelBundle::from_json(&v.to_string())
            .unwrap_err()
            .to_string();
        assert!(err.contains("autoencoder"), "{err}");
        let bundle: ModelBundle = serde_json::from_value(v).unwrap();
        assert!(
            bundle.validate().is_err(),
            "the binary form is validated alike"
        );
        assert!(ModelBundle::from_bytes(&bundle.to_bytes()).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

        #[test]
        fn accepted_bundles_score_finite_on_finite_input(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0..EXTREMES.len()), 1..4),
        ) {
            let (value, inputs) = base();
            let mut v = value.clone();
            let parts = parts();
            for (part, leaf, e) in &edits {
                let paths = &parts[part.index(parts.len())];
                let path = &paths[leaf.index(paths.len())];
                *v.pointer_mut(path).unwrap() = serde_json::json!(EXTREMES[*e]);
            }
            if let Ok(bundle) = ModelBundle::from_json(&v.to_string()) {
                for x in inputs {
                    if let Err(what) = check_finite(&bundle, x) {
                        prop_assert!(false, "edits {:?}: {}", edits.iter().map(|(p, l, e)| {
                            let paths = &parts[p.index(parts.len())];
                            (paths[l.index(paths.len())].clone(), EXTREMES[*e])
                        }).collect::<Vec<_>>(), what);
                    }
                }
            }
        }
    }
}
