//! Seeded randomness.
//!
//! Every training entry point takes an explicit `u64` seed; nothing in this crate reads the OS
//! entropy source (which also keeps `getrandom` out of the wasm32 build). ChaCha8 is used because
//! its output is specified and stable across `rand` releases, so a seed means the same model on
//! every machine and every version of this crate.

use rand::SeedableRng;

/// The crate's random number generator.
pub type Rng = rand_chacha::ChaCha8Rng;

/// A generator for `seed`.
pub fn seeded(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

/// An independent stream derived from `seed` for a named purpose (e.g. tree `i`, or the
/// autoencoder's shuffles), so that adding draws to one consumer never shifts another.
pub fn derived(seed: u64, stream: u64) -> Rng {
    let mut rng = seeded(seed);
    rng.set_stream(stream);
    rng
}
