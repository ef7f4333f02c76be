//! Bucketing: `murmur3_x86_32(seed 0, "{salt}:{value}") mod 100000`, then the
//! first variant whose cumulative weight exceeds the bucket.

use std::io::Read;

use vexil_proto::WeightedVariant;

/// Number of buckets; rollout weights are in these units (0.001 %).
pub const BUCKETS: u32 = 100_000;

/// Hashed strings up to this length are assembled on the stack; longer ones
/// are streamed through `io::Chain`, which is slower but also allocation-free.
const STACK_LEN: usize = 256;

/// The raw murmur3 hash of `"{salt}:{value}"`, computed without allocating.
pub fn hash(salt: &str, value: &str) -> u32 {
    let (salt, value) = (salt.as_bytes(), value.as_bytes());
    let len = salt.len() + 1 + value.len();
    let mut stack = [0u8; STACK_LEN];
    // Reading from in-memory slices cannot fail.
    match stack.get_mut(..len) {
        Some(buf) => {
            let (head, tail) = buf.split_at_mut(salt.len());
            head.copy_from_slice(salt);
            if let Some((colon, rest)) = tail.split_first_mut() {
                *colon = b':';
                rest.copy_from_slice(value);
            }
            murmur3::murmur3_32(&mut Words(buf), 0).unwrap_or_default()
        }
        None => {
            let mut bytes = salt.chain(&b":"[..]).chain(value);
            murmur3::murmur3_32(&mut bytes, 0).unwrap_or_default()
        }
    }
}

/// Bytes read four at a time: `murmur3` reads its input in 4-byte blocks,
/// and a fixed-size copy is a single load, where `Read for &[u8]` copies
/// through `memcpy` for every block.
struct Words<'a>(&'a [u8]);

impl Read for Words<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let (Some(dst), Some((src, rest))) =
            (buf.first_chunk_mut::<4>(), self.0.split_first_chunk::<4>())
        {
            *dst = *src;
            self.0 = rest;
            return Ok(4);
        }
        self.0.read(buf)
    }
}

/// The bucket (`0..100000`) of `value` under `salt`.
pub fn bucket(salt: &str, value: &str) -> u32 {
    hash(salt, value) % BUCKETS
}

/// The variant a bucket falls in: walking the weights in order, the first
/// whose cumulative weight exceeds `bucket`. `None` if the weights do not
/// reach past the bucket (they sum to less than 100 000).
pub fn pick_variant(weights: &[WeightedVariant], bucket: u32) -> Option<&str> {
    let mut cumulative: u64 = 0;
    weights.iter().find_map(|w| {
        cumulative += u64::from(w.weight);
        (cumulative > u64::from(bucket)).then_some(w.variant.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_hashes() {
        assert_eq!(hash("new-checkout", "user-1"), 2_230_340_631);
        assert_eq!(bucket("new-checkout", "user-1"), 40_631);
        assert_eq!(bucket("search-v2", ""), 32_353);
    }

    #[test]
    fn long_strings_hash_like_short_ones() {
        let long = "v".repeat(STACK_LEN * 2);
        for value in [
            &long[..STACK_LEN - 3],
            &long[..STACK_LEN - 2],
            &long[..STACK_LEN - 1],
            &long[..],
        ] {
            let joined = format!("s:{value}");
            let expected = murmur3::murmur3_32(&mut joined.as_bytes(), 0).unwrap();
            assert_eq!(hash("s", value), expected, "length {}", joined.len());
        }
    }

    #[test]
    fn zero_weights_are_skipped() {
        let w = |v: &str, weight| WeightedVariant {
            variant: v.into(),
            weight,
        };
        assert_eq!(
            pick_variant(&[w("on", 0), w("off", 100_000)], 0),
            Some("off")
        );
        assert_eq!(
            pick_variant(&[w("on", 10_000), w("off", 90_000)], 9_999),
            Some("on")
        );
        assert_eq!(
            pick_variant(&[w("on", 10_000), w("off", 90_000)], 10_000),
            Some("off")
        );
        assert_eq!(pick_variant(&[w("on", 10)], 10), None);
    }
}
