"""MurmurHash3 x86_32, pure Python, independent of every Vexil crate.

Used by gen_cases.py to compute the buckets the evaluation fixtures expect.
`python3 spec/tools/murmur3.py` checks it against the golden vectors in
spec/vectors/bucketing.json (and against the `mmh3` package when installed).
"""

import json
import pathlib
import sys

MASK = 0xFFFFFFFF
C1 = 0xCC9E2D51
C2 = 0x1B873593


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & MASK


def _fmix(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK
    h ^= h >> 16
    return h


def murmur3_x86_32(data: bytes, seed: int = 0) -> int:
    """The unsigned 32-bit MurmurHash3 (x86, 32-bit variant) of `data`."""
    h = seed & MASK
    nblocks = len(data) // 4
    for i in range(nblocks):
        k = int.from_bytes(data[4 * i : 4 * i + 4], "little")
        k = (k * C1) & MASK
        k = _rotl(k, 15)
        k = (k * C2) & MASK
        h ^= k
        h = _rotl(h, 13)
        h = (h * 5 + 0xE6546B64) & MASK
    tail = data[4 * nblocks :]
    k = 0
    if len(tail) >= 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if len(tail) >= 1:
        k ^= tail[0]
        k = (k * C1) & MASK
        k = _rotl(k, 15)
        k = (k * C2) & MASK
        h ^= k
    h ^= len(data)
    return _fmix(h)


def bucket_of(hashed: str) -> int:
    """Vexil's bucket of the already-joined string `"{salt}:{value}"`."""
    return murmur3_x86_32(hashed.encode("utf-8"), 0) % 100_000


def pick_variant(weights, bucket: int):
    """The first variant whose cumulative weight exceeds `bucket`."""
    total = 0
    for variant, weight in weights:
        total += weight
        if total > bucket:
            return variant
    return None


VECTORS = pathlib.Path(__file__).resolve().parents[1] / "vectors" / "bucketing.json"


def check_vectors() -> int:
    """Asserts this implementation reproduces every golden vector; returns how many."""
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))
    count = 0
    for v in vectors["bucketing"]:
        hashed = f"{v['salt']}:{v['value']}"
        assert hashed == v["hashed"], v
        got = murmur3_x86_32(hashed.encode("utf-8"))
        assert got == v["murmur3_x86_32"], (v, got)
        assert bucket_of(hashed) == v["bucket"], v
        count += 1
    for r in vectors["rollouts"]:
        assert pick_variant(r["weights"], r["bucket"]) == r["variant"], r
        count += 1
    try:
        import mmh3  # optional cross-check
    except ImportError:
        return count
    for text in ["", "a", "ab", "abc", "abcd", "abcde", "ünï:用户", "x" * 1001]:
        assert mmh3.hash(text, 0, signed=False) == murmur3_x86_32(text.encode("utf-8")), text
    return count


if __name__ == "__main__":
    n = check_vectors()
    print(f"murmur3.py reproduces {n} golden vectors")
    sys.exit(0)
