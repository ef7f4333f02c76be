#!/usr/bin/env python3
"""Writes spec/cases/*.json, the shared evaluation fixtures.

Run from anywhere: `python3 spec/tools/gen_cases.py`. It first checks its
murmur3 against spec/vectors/bucketing.json, then rewrites every fixture file.

Every expectation below is written by hand from docs/evaluation.md (the
section that decides it is named next to the less obvious ones). Nothing is
copied from the engine: a fixture copied from the code under test cannot fail.
Only two things are computed: the value of the expected variant (a lookup in
the fixture's own snapshot) and the bucket of a written-out
`"{salt}:{value}"` string (murmur3.py, independent of the engine).
"""

import sys
from datetime import datetime

sys.dont_write_bytecode = True  # keep spec/tools free of __pycache__

from fixture import (
    Fixture,
    clause,
    ctx,
    default,
    disabled,
    fallback,
    flag,
    matched,
    not_found,
    parse_error,
    prereq_failed,
    rollout,
    rule,
    segment,
    split,
    target,
    variant,
)
from murmur3 import bucket_of, check_vectors

NAN = {"x": "NaN"}


def ms(rfc3339):
    """Epoch milliseconds of an RFC 3339 timestamp (Python's own parser)."""
    return int(datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() * 1000)


# ---------------------------------------------------------------------------
def operators_strings():
    fx = Fixture(
        "operators_strings",
        "String operators: in, contains, starts_with, ends_with; case-sensitive, byte-wise on UTF-8, "
        "with and without negate, against non-string attributes (never a match: no coercion).",
    )
    m = fx.is_match
    f = fx.op_flag("in-plan", "plan", "in", ["pro", "enterprise"])
    m("in: equal to the first value", f, ctx("u1", {"plan": "pro"}), True)
    m("in: equal to the second value", f, ctx("u1", {"plan": "enterprise"}), True)
    m("in: other string", f, ctx("u1", {"plan": "free"}), False)
    m("in: case-sensitive", f, ctx("u1", {"plan": "PRO"}), False)
    m("in: prefix is not equality", f, ctx("u1", {"plan": "pro "}), False)
    m("in: number attribute never equals a string", f, ctx("u1", {"plan": 1}), False)
    m("in: missing attribute", f, ctx("u1"), False)
    f = fx.op_flag("in-plan-negated", "plan", "in", ["pro", "enterprise"], negate=True)
    m("not in: listed value", f, ctx("u1", {"plan": "pro"}), False)
    m("not in: other string", f, ctx("u1", {"plan": "free"}), True)
    m("not in: wrong type is not a match, so negated it is true", f, ctx("u1", {"plan": 1}), True)
    m("not in: missing attribute stays false", f, ctx("u1"), False)
    f = fx.op_flag("in-empty-string", "nickname", "in", [""])
    m("in \"\": empty string", f, ctx("u1", {"nickname": ""}), True)
    m("in \"\": a space is not empty", f, ctx("u1", {"nickname": " "}), False)
    m("in \"\": missing attribute is not empty string", f, ctx("u1"), False)

    f = fx.op_flag("contains-email", "email", "contains", ["@example.com", "+test"])
    m("contains: first value", f, ctx("u1", {"email": "alice@example.com"}), True)
    m("contains: second value", f, ctx("u1", {"email": "bob+test@mail.org"}), True)
    m("contains: whole string", f, ctx("u1", {"email": "@example.com"}), True)
    m("contains: no value contained", f, ctx("u1", {"email": "carol@example.org"}), False)
    m("contains: case-sensitive", f, ctx("u1", {"email": "dan@EXAMPLE.com"}), False)
    m("contains: empty attribute contains nothing non-empty", f, ctx("u1", {"email": ""}), False)
    m("contains: number attribute", f, ctx("u1", {"email": 42}), False)
    m("contains: boolean attribute", f, ctx("u1", {"email": True}), False)
    f = fx.op_flag("contains-email-negated", "email", "contains", ["@example.com"], negate=True)
    m("not contains: other domain", f, ctx("u1", {"email": "carol@example.org"}), True)
    m("not contains: contained", f, ctx("u1", {"email": "alice@example.com"}), False)
    m("not contains: number attribute is true under negate", f, ctx("u1", {"email": 42}), True)
    m("not contains: missing attribute stays false", f, ctx("u1"), False)
    f = fx.op_flag("contains-empty", "email", "contains", [""])
    m("contains \"\": in every string", f, ctx("u1", {"email": "anything"}), True)
    m("contains \"\": even the empty string", f, ctx("u1", {"email": ""}), True)
    m("contains \"\": not in a number", f, ctx("u1", {"email": 5}), False)
    m("contains \"\": missing attribute", f, ctx("u1"), False)

    f = fx.op_flag("starts-with-path", "path", "starts_with", ["/api/", "/v2/"])
    m("starts_with: first prefix", f, ctx("u1", {"path": "/api/users"}), True)
    m("starts_with: second prefix, whole string", f, ctx("u1", {"path": "/v2/"}), True)
    m("starts_with: case-sensitive", f, ctx("u1", {"path": "/API/users"}), False)
    m("starts_with: prefix inside, not at the start", f, ctx("u1", {"path": "x/api/"}), False)
    m("starts_with: shorter than the prefix", f, ctx("u1", {"path": "/api"}), False)
    m("starts_with: empty string", f, ctx("u1", {"path": ""}), False)
    f = fx.op_flag("starts-with-path-negated", "path", "starts_with", ["/api/"], negate=True)
    m("not starts_with: other path", f, ctx("u1", {"path": "/web/home"}), True)
    m("not starts_with: prefixed", f, ctx("u1", {"path": "/api/x"}), False)
    m("not starts_with: missing attribute stays false", f, ctx("u1"), False)
    f = fx.op_flag("starts-with-empty", "path", "starts_with", [""])
    m("starts_with \"\": every string", f, ctx("u1", {"path": "/x"}), True)
    m("starts_with \"\": empty string", f, ctx("u1", {"path": ""}), True)

    f = fx.op_flag("ends-with-domain", "email", "ends_with", [".org", ".io"])
    m("ends_with: first suffix", f, ctx("u1", {"email": "x@y.org"}), True)
    m("ends_with: second suffix", f, ctx("u1", {"email": "y.io"}), True)
    m("ends_with: suffix not at the end", f, ctx("u1", {"email": "x@y.org.uk"}), False)
    m("ends_with: case-sensitive", f, ctx("u1", {"email": "x@y.ORG"}), False)
    m("ends_with: number attribute", f, ctx("u1", {"email": 1.5}), False)
    f = fx.op_flag("ends-with-domain-negated", "email", "ends_with", [".org"], negate=True)
    m("not ends_with: other suffix", f, ctx("u1", {"email": "x@y.com"}), True)
    m("not ends_with: suffixed", f, ctx("u1", {"email": "x@y.org"}), False)
    m("not ends_with: missing attribute stays false", f, ctx("u1"), False)

    f = fx.op_flag("unicode-starts", "name", "starts_with", ["ü"])
    m("unicode starts_with: precomposed ü", f, ctx("u1", {"name": "über"}), True)
    m("unicode starts_with: plain u", f, ctx("u1", {"name": "uber"}), False)
    m("unicode starts_with: capital Ü is another character", f, ctx("u1", {"name": "Über"}), False)
    m(
        "unicode starts_with: decomposed u + combining diaeresis differs by bytes",
        f,
        ctx("u1", {"name": "u\u0308ber"}),
        False,
    )
    f = fx.op_flag("unicode-contains", "name", "contains", ["用户"])
    m("unicode contains: CJK substring", f, ctx("u1", {"name": "新用户注册"}), True)
    m("unicode contains: one of the two characters only", f, ctx("u1", {"name": "用"}), False)
    f = fx.op_flag("unicode-ends", "name", "ends_with", ["🎉"])
    m("unicode ends_with: emoji suffix", f, ctx("u1", {"name": "party🎉"}), True)
    m("unicode ends_with: emoji not at the end", f, ctx("u1", {"name": "🎉party"}), False)
    f = fx.op_flag("unicode-in", "city", "in", ["Zürich", "東京"])
    m("unicode in: Zürich", f, ctx("u1", {"city": "Zürich"}), True)
    m("unicode in: 東京", f, ctx("u1", {"city": "東京"}), True)
    m("unicode in: Zurich without umlaut", f, ctx("u1", {"city": "Zurich"}), False)
    f = fx.op_flag("unicode-attribute-name", "país", "in", ["fr"])
    m("unicode attribute name", f, ctx("u1", {"país": "fr"}), True)
    m("unicode attribute name: ascii lookalike is another attribute", f, ctx("u1", {"pais": "fr"}), False)
    return fx


# ---------------------------------------------------------------------------
def operators_numbers():
    fx = Fixture(
        "operators_numbers",
        "Number operators eq, lt, lte, gt, gte and `in` on numbers and booleans: numbers only, "
        "NaN compares false, infinities order normally, -0 equals 0, integers beyond 2^53 as f64.",
    )
    m = fx.is_match
    f = fx.op_flag("eq-age", "age", "eq", [42])
    m("eq: equal integer", f, ctx("u1", {"age": 42}), True)
    m("eq: 42.0 is 42", f, ctx("u1", {"age": 42.0}), True)
    m("eq: close is not equal", f, ctx("u1", {"age": 41.999}), False)
    m("eq: string \"42\" is not a number", f, ctx("u1", {"age": "42"}), False)
    m("eq: boolean is not a number", f, ctx("u1", {"age": True}), False)
    m("eq: NaN equals nothing", f, ctx("u1"), False, numbers={"age": "NaN"})
    m("eq: missing attribute", f, ctx("u1"), False)
    f = fx.op_flag("eq-age-negated", "age", "eq", [42], negate=True)
    m("not eq: equal", f, ctx("u1", {"age": 42}), False)
    m("not eq: different", f, ctx("u1", {"age": 41}), True)
    m("not eq: string \"42\" is no match, so true", f, ctx("u1", {"age": "42"}), True)
    m("not eq: NaN compares false, so true", f, ctx("u1"), True, numbers={"age": "NaN"})
    m("not eq: missing attribute stays false", f, ctx("u1"), False)
    f = fx.op_flag("eq-any-value", "score", "eq", [1, 2.5, -3])
    m("eq any: second value", f, ctx("u1", {"score": 2.5}), True)
    m("eq any: negative value", f, ctx("u1", {"score": -3}), True)
    m("eq any: none", f, ctx("u1", {"score": 3}), False)

    f = fx.op_flag("lt-age", "age", "lt", [18])
    m("lt: below", f, ctx("u1", {"age": 17}), True)
    m("lt: fraction below", f, ctx("u1", {"age": 17.999}), True)
    m("lt: equal is not less", f, ctx("u1", {"age": 18}), False)
    m("lt: above", f, ctx("u1", {"age": 19}), False)
    m("lt: -Infinity is less", f, ctx("u1"), True, numbers={"age": "-Infinity"})
    m("lt: Infinity is not less", f, ctx("u1"), False, numbers={"age": "Infinity"})
    m("lt: NaN compares false", f, ctx("u1"), False, numbers={"age": "NaN"})
    m("lt: string \"17\"", f, ctx("u1", {"age": "17"}), False)
    f = fx.op_flag("lt-age-negated", "age", "lt", [18], negate=True)
    m("not lt: equal", f, ctx("u1", {"age": 18}), True)
    m("not lt: below", f, ctx("u1", {"age": 17}), False)
    m("not lt: NaN", f, ctx("u1"), True, numbers={"age": "NaN"})
    m("not lt: missing attribute stays false", f, ctx("u1"), False)
    f = fx.op_flag("lte-age", "age", "lte", [18])
    m("lte: equal", f, ctx("u1", {"age": 18}), True)
    m("lte: below", f, ctx("u1", {"age": -1}), True)
    m("lte: just above", f, ctx("u1", {"age": 18.0001}), False)
    m("lte: NaN", f, ctx("u1"), False, numbers={"age": "NaN"})
    f = fx.op_flag("lte-age-negated", "age", "lte", [18], negate=True)
    m("not lte: above", f, ctx("u1", {"age": 19}), True)
    m("not lte: equal", f, ctx("u1", {"age": 18}), False)
    f = fx.op_flag("gt-age", "age", "gt", [65])
    m("gt: above", f, ctx("u1", {"age": 66}), True)
    m("gt: equal is not greater", f, ctx("u1", {"age": 65}), False)
    m("gt: Infinity", f, ctx("u1"), True, numbers={"age": "Infinity"})
    m("gt: -Infinity", f, ctx("u1"), False, numbers={"age": "-Infinity"})
    m("gt: boolean", f, ctx("u1", {"age": True}), False)
    f = fx.op_flag("gt-age-negated", "age", "gt", [65], negate=True)
    m("not gt: equal", f, ctx("u1", {"age": 65}), True)
    m("not gt: above", f, ctx("u1", {"age": 70}), False)
    m("not gt: NaN", f, ctx("u1"), True, numbers={"age": "NaN"})
    f = fx.op_flag("gte-age", "age", "gte", [65])
    m("gte: equal", f, ctx("u1", {"age": 65}), True)
    m("gte: above", f, ctx("u1", {"age": 1000}), True)
    m("gte: just below", f, ctx("u1", {"age": 64.9}), False)
    m("gte: NaN", f, ctx("u1"), False, numbers={"age": "NaN"})
    f = fx.op_flag("gte-age-negated", "age", "gte", [65], negate=True)
    m("not gte: below", f, ctx("u1", {"age": 64}), True)
    m("not gte: equal", f, ctx("u1", {"age": 65}), False)

    f = fx.op_flag("gt-max", "n", "gt", [1e308])
    m("gt 1e308: Infinity", f, ctx("u1"), True, numbers={"n": "Infinity"})
    m("gt 1e308: equal", f, ctx("u1", {"n": 1e308}), False)
    m("gt 1e308: largest finite f64", f, ctx("u1", {"n": 1.7976931348623157e308}), True)
    f = fx.op_flag("lt-min", "n", "lt", [-1e308])
    m("lt -1e308: -Infinity", f, ctx("u1"), True, numbers={"n": "-Infinity"})
    m("lt -1e308: equal", f, ctx("u1", {"n": -1e308}), False)
    f = fx.op_flag("eq-huge", "n", "eq", [1e308])
    m("eq 1e308: equal", f, ctx("u1", {"n": 1e308}), True)
    m("eq 1e308: Infinity is not 1e308", f, ctx("u1"), False, numbers={"n": "Infinity"})
    f = fx.op_flag("eq-beyond-2p53", "n", "eq", [9007199254740993])
    m(
        "eq 9007199254740993: parses to 2^53 as f64",
        f,
        ctx("u1", {"n": 9007199254740992}),
        True,
        note="9007199254740993 is not representable as f64 and rounds to 9007199254740992",
    )
    m("eq 9007199254740993: same literal", f, ctx("u1", {"n": 9007199254740993}), True)
    m("eq 9007199254740993: 2^53 + 2 differs", f, ctx("u1", {"n": 9007199254740994}), False)
    f = fx.op_flag("eq-zero", "n", "eq", [0])
    m("eq 0: -0.0 equals 0", f, ctx("u1", {"n": -0.0}), True)
    m("eq 0: 0", f, ctx("u1", {"n": 0}), True)
    m("eq 0: smallest subnormal is not 0", f, ctx("u1", {"n": 5e-324}), False)
    f = fx.op_flag("lt-zero", "n", "lt", [0])
    m("lt 0: -0.0 is not less than 0", f, ctx("u1", {"n": -0.0}), False)
    m("lt 0: smallest negative subnormal", f, ctx("u1", {"n": -5e-324}), True)

    f = fx.op_flag("in-numbers", "n", "in", [42, 0, 1.5])
    m("in numbers: 42", f, ctx("u1", {"n": 42}), True)
    m("in numbers: 42.0 by value", f, ctx("u1", {"n": 42.0}), True)
    m("in numbers: -0.0 equals 0 by value", f, ctx("u1", {"n": -0.0}), True)
    m("in numbers: fraction", f, ctx("u1", {"n": 1.5}), True)
    m("in numbers: string \"42\"", f, ctx("u1", {"n": "42"}), False)
    m("in numbers: NaN equals nothing", f, ctx("u1"), False, numbers={"n": "NaN"})
    m("in numbers: Infinity", f, ctx("u1"), False, numbers={"n": "Infinity"})
    m("in numbers: boolean false is not 0", f, ctx("u1", {"n": False}), False)
    f = fx.op_flag("in-negative-zero", "n", "in", [-0.0])
    m("in -0.0: 0 equals -0.0 by value", f, ctx("u1", {"n": 0}), True)
    m("in -0.0: -0.0", f, ctx("u1", {"n": -0.0}), True)
    f = fx.op_flag("in-numbers-negated", "n", "in", [42], negate=True)
    m("not in numbers: NaN is no match, so true", f, ctx("u1"), True, numbers={"n": "NaN"})
    m("not in numbers: 42", f, ctx("u1", {"n": 42}), False)
    f = fx.op_flag("in-bools", "beta", "in", [True])
    m("in true: true", f, ctx("u1", {"beta": True}), True)
    m("in true: false", f, ctx("u1", {"beta": False}), False)
    m("in true: string \"true\"", f, ctx("u1", {"beta": "true"}), False)
    m("in true: number 1", f, ctx("u1", {"beta": 1}), False)
    f = fx.op_flag("in-bools-negated", "beta", "in", [True], negate=True)
    m("not in true: false", f, ctx("u1", {"beta": False}), True)
    m("not in true: string \"true\"", f, ctx("u1", {"beta": "true"}), True)
    m("not in true: true", f, ctx("u1", {"beta": True}), False)
    m("not in true: missing attribute stays false", f, ctx("u1"), False)
    f = fx.op_flag("in-mixed", "v", "in", ["42", 7, False])
    m("in mixed: string \"42\"", f, ctx("u1", {"v": "42"}), True)
    m("in mixed: number 42 is not string \"42\"", f, ctx("u1", {"v": 42}), False)
    m("in mixed: number 7", f, ctx("u1", {"v": 7}), True)
    m("in mixed: string \"7\" is not number 7", f, ctx("u1", {"v": "7"}), False)
    m("in mixed: false", f, ctx("u1", {"v": False}), True)
    m("in mixed: string \"false\"", f, ctx("u1", {"v": "false"}), False)
    m("in mixed: 0 is not false", f, ctx("u1", {"v": 0}), False)
    return fx


# ---------------------------------------------------------------------------
def operators_semver():
    fx = Fixture(
        "operators_semver",
        "semver_eq, semver_lt, semver_gt: SemVer precedence (pre-releases before the release, "
        "build metadata ignored), `2`/`2.1` padded, anything else that does not parse is no match.",
    )
    m = fx.is_match
    f = fx.op_flag("semver-eq", "version", "semver_eq", ["2.0.0"])
    m("semver_eq: equal", f, ctx("u1", {"version": "2.0.0"}), True)
    m("semver_eq: padded 2.0", f, ctx("u1", {"version": "2.0"}), True)
    m("semver_eq: padded 2", f, ctx("u1", {"version": "2"}), True)
    m("semver_eq: pre-release differs", f, ctx("u1", {"version": "2.0.0-rc.1"}), False)
    m("semver_eq: patch differs", f, ctx("u1", {"version": "2.0.1"}), False)
    m("semver_eq: build metadata ignored", f, ctx("u1", {"version": "2.0.0+build.7"}), True)
    m("semver_eq: leading v does not parse", f, ctx("u1", {"version": "v2.0.0"}), False)
    m("semver_eq: four parts do not parse", f, ctx("u1", {"version": "2.0.0.0"}), False)
    m("semver_eq: leading zero does not parse", f, ctx("u1", {"version": "02.0.0"}), False)
    m("semver_eq: empty string does not parse", f, ctx("u1", {"version": ""}), False)
    m("semver_eq: leading space does not parse", f, ctx("u1", {"version": " 2.0.0"}), False)
    m("semver_eq: trailing space does not parse", f, ctx("u1", {"version": "2.0.0 "}), False)
    m("semver_eq: empty pre-release does not parse", f, ctx("u1", {"version": "2.0.0-"}), False)
    m("semver_eq: number 2 is not a string", f, ctx("u1", {"version": 2}), False)
    m("semver_eq: missing attribute", f, ctx("u1"), False)
    f = fx.op_flag("semver-eq-negated", "version", "semver_eq", ["2.0.0"], negate=True)
    m("not semver_eq: other version", f, ctx("u1", {"version": "2.0.1"}), True)
    m("not semver_eq: equal", f, ctx("u1", {"version": "2.0.0"}), False)
    m("not semver_eq: unparsable is no match, so true", f, ctx("u1", {"version": "v2.0.0"}), True)
    m("not semver_eq: missing attribute stays false", f, ctx("u1"), False)
    f = fx.op_flag("semver-eq-build-value", "version", "semver_eq", ["1.0.0+abc"])
    m("semver_eq with build in the value: release without build", f, ctx("u1", {"version": "1.0.0"}), True)
    m("semver_eq with build in the value: another build", f, ctx("u1", {"version": "1.0.0+xyz"}), True)
    f = fx.op_flag("semver-eq-padded-value", "version", "semver_eq", ["2.1"])
    m("semver_eq padded value: 2.1.0", f, ctx("u1", {"version": "2.1.0"}), True)
    m("semver_eq padded value: 2.1", f, ctx("u1", {"version": "2.1"}), True)
    m("semver_eq padded value: 2.1.1", f, ctx("u1", {"version": "2.1.1"}), False)

    f = fx.op_flag("semver-lt", "version", "semver_lt", ["1.0.0"])
    m("semver_lt: pre-release sorts before the release", f, ctx("u1", {"version": "1.0.0-alpha"}), True)
    m("semver_lt: lower version", f, ctx("u1", {"version": "0.9.9"}), True)
    m("semver_lt: equal", f, ctx("u1", {"version": "1.0.0"}), False)
    m("semver_lt: equal with build metadata", f, ctx("u1", {"version": "1.0.0+001"}), False)
    m("semver_lt: higher", f, ctx("u1", {"version": "1.0.1"}), False)
    m("semver_lt: numeric, not lexical (0.10.0 > 0.9.0 but < 1.0.0)", f, ctx("u1", {"version": "0.10.0"}), True)
    m("semver_lt: garbage", f, ctx("u1", {"version": "latest"}), False)
    f = fx.op_flag("semver-lt-negated", "version", "semver_lt", ["1.0.0"], negate=True)
    m("not semver_lt: equal", f, ctx("u1", {"version": "1.0.0"}), True)
    m("not semver_lt: lower", f, ctx("u1", {"version": "0.1.0"}), False)
    m("not semver_lt: garbage is no match, so true", f, ctx("u1", {"version": "latest"}), True)
    m("not semver_lt: missing attribute stays false", f, ctx("u1"), False)
    f = fx.op_flag("semver-lt-build", "version", "semver_lt", ["1.0.0+bbb"])
    m("semver_lt: builds of one version are equal, not ordered", f, ctx("u1", {"version": "1.0.0+aaa"}), False)

    f = fx.op_flag("semver-gt", "version", "semver_gt", ["1.0.0-alpha"])
    m("semver_gt: longer pre-release sorts after its prefix", f, ctx("u1", {"version": "1.0.0-alpha.1"}), True)
    m("semver_gt: equal", f, ctx("u1", {"version": "1.0.0-alpha"}), False)
    m("semver_gt: beta after alpha", f, ctx("u1", {"version": "1.0.0-beta"}), True)
    m("semver_gt: release after pre-release", f, ctx("u1", {"version": "1.0.0"}), True)
    m("semver_gt: lower", f, ctx("u1", {"version": "0.9.0"}), False)
    m("semver_gt: number attribute", f, ctx("u1", {"version": 2}), False)
    f = fx.op_flag("semver-gt-negated", "version", "semver_gt", ["1.0.0"], negate=True)
    m("not semver_gt: lower", f, ctx("u1", {"version": "0.1.0"}), True)
    m("not semver_gt: higher", f, ctx("u1", {"version": "1.2.0"}), False)
    m("not semver_gt: equal with build metadata", f, ctx("u1", {"version": "1.0.0+zzz"}), True)
    f = fx.op_flag("semver-gt-padded", "version", "semver_gt", ["2.0.9"])
    m("semver_gt: padded 2.1 > 2.0.9", f, ctx("u1", {"version": "2.1"}), True)
    m("semver_gt: padded 2 < 2.0.9", f, ctx("u1", {"version": "2"}), False)
    f = fx.op_flag("semver-lt-padded-pre", "version", "semver_lt", ["2.1.0"])
    m("semver_lt: padded pre-release 2.1-beta < 2.1.0", f, ctx("u1", {"version": "2.1-beta"}), True)

    # SemVer 2.0 section 11's example chain, each strictly before the next.
    chain = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
    ]
    for i in range(1, len(chain)):
        f = fx.op_flag(f"semver-lt-chain-{i}", "version", "semver_lt", [chain[i]])
        m(f"precedence: {chain[i - 1]} < {chain[i]}", f, ctx("u1", {"version": chain[i - 1]}), True)
        m(f"precedence: {chain[i]} is not < itself", f, ctx("u1", {"version": chain[i]}), False)
        f = fx.op_flag(f"semver-gt-chain-{i}", "version", "semver_gt", [chain[i - 1]])
        m(f"precedence: {chain[i]} > {chain[i - 1]}", f, ctx("u1", {"version": chain[i]}), True)
    f = fx.op_flag("semver-any-value", "version", "semver_eq", ["1.0.0", "3.0.0"])
    m("semver_eq any: second value", f, ctx("u1", {"version": "3.0.0"}), True)
    m("semver_eq any: none", f, ctx("u1", {"version": "2.0.0"}), False)
    return fx


# ---------------------------------------------------------------------------
def operators_dates():
    fx = Fixture(
        "operators_dates",
        "before/after: RFC 3339 strings (offsets, fractional seconds) or epoch milliseconds, "
        "strictly earlier/later; a context value that is not a date is no match.",
    )
    m = fx.is_match
    launch = "2026-01-01T00:00:00Z"
    launch_ms = ms(launch)
    assert launch_ms == 1767225600000
    f = fx.op_flag("before-launch", "signup", "before", [launch])
    m("before: one second earlier", f, ctx("u1", {"signup": "2025-12-31T23:59:59Z"}), True)
    m("before: one millisecond earlier", f, ctx("u1", {"signup": "2025-12-31T23:59:59.999Z"}), True)
    m("before: equal is not before", f, ctx("u1", {"signup": launch}), False)
    m("before: one millisecond later", f, ctx("u1", {"signup": "2026-01-01T00:00:00.001Z"}), False)
    m("before: offset +01:00, one second earlier", f, ctx("u1", {"signup": "2026-01-01T00:59:59+01:00"}), True)
    m("before: offset +01:00, the same instant", f, ctx("u1", {"signup": "2026-01-01T01:00:00+01:00"}), False)
    m("before: negative offset, earlier", f, ctx("u1", {"signup": "2025-12-31T18:59:59-05:00"}), True)
    m("before: epoch ms one earlier", f, ctx("u1", {"signup": launch_ms - 1}), True)
    m("before: epoch ms equal", f, ctx("u1", {"signup": launch_ms}), False)
    m("before: epoch 0", f, ctx("u1", {"signup": 0}), True)
    m("before: year 1", f, ctx("u1", {"signup": "0001-01-01T00:00:00Z"}), True)
    m("before: year 9999 is later", f, ctx("u1", {"signup": "9999-12-31T23:59:59Z"}), False)
    m("before: negative epoch ms (1969)", f, ctx("u1", {"signup": -86400000}), True)
    m("before: date without time does not parse", f, ctx("u1", {"signup": "2025-12-31"}), False)
    m("before: words do not parse", f, ctx("u1", {"signup": "yesterday"}), False)
    m("before: empty string does not parse", f, ctx("u1", {"signup": ""}), False)
    m("before: boolean is not a date", f, ctx("u1", {"signup": True}), False)
    m("before: NaN is not a date", f, ctx("u1"), False, numbers={"signup": "NaN"})
    m("before: missing attribute", f, ctx("u1"), False)
    f = fx.op_flag("before-launch-negated", "signup", "before", [launch], negate=True)
    m("not before: later", f, ctx("u1", {"signup": "2027-01-01T00:00:00Z"}), True)
    m("not before: equal", f, ctx("u1", {"signup": launch}), True)
    m("not before: earlier", f, ctx("u1", {"signup": "2025-01-01T00:00:00Z"}), False)
    m("not before: unparsable is no match, so true", f, ctx("u1", {"signup": "garbage"}), True)
    m("not before: missing attribute stays false", f, ctx("u1"), False)
    f = fx.op_flag("after-launch", "signup", "after", [launch])
    m("after: one millisecond later", f, ctx("u1", {"signup": "2026-01-01T00:00:00.001Z"}), True)
    m("after: equal is not after", f, ctx("u1", {"signup": launch}), False)
    m("after: earlier", f, ctx("u1", {"signup": "2025-06-01T12:00:00Z"}), False)
    m("after: epoch ms one later", f, ctx("u1", {"signup": launch_ms + 1}), True)
    m("after: epoch ms equal", f, ctx("u1", {"signup": launch_ms}), False)
    m("after: string epoch is not a date", f, ctx("u1", {"signup": str(launch_ms + 1)}), False)
    m("after: unparsable month 13", f, ctx("u1", {"signup": "2026-13-01T00:00:00Z"}), False)
    f = fx.op_flag("after-launch-negated", "signup", "after", [launch], negate=True)
    m("not after: earlier", f, ctx("u1", {"signup": "2025-06-01T12:00:00Z"}), True)
    m("not after: later", f, ctx("u1", {"signup": "2026-06-01T12:00:00Z"}), False)
    m("not after: missing attribute stays false", f, ctx("u1"), False)

    f = fx.op_flag("before-epoch-value", "ts", "before", [1700000000000])
    assert ms("2023-11-14T22:13:20Z") == 1700000000000
    m("epoch value: RFC 3339 context earlier", f, ctx("u1", {"ts": "2023-11-14T22:13:19.999Z"}), True)
    m("epoch value: RFC 3339 context equal", f, ctx("u1", {"ts": "2023-11-14T22:13:20Z"}), False)
    m("epoch value: epoch context earlier", f, ctx("u1", {"ts": 1699999999999}), True)
    m("epoch value: fractional epoch ms just below", f, ctx("u1", {"ts": 1699999999999.5}), True)
    f = fx.op_flag("after-offset-value", "ts", "after", ["2026-11-22T01:00:00+01:00"])
    assert ms("2026-11-22T00:00:00Z") == 1795305600000
    m("offset value: the same instant in UTC", f, ctx("u1", {"ts": "2026-11-22T00:00:00Z"}), False)
    m("offset value: one millisecond later in UTC", f, ctx("u1", {"ts": "2026-11-22T00:00:00.001Z"}), True)
    m("offset value: the same instant at -00:30", f, ctx("u1", {"ts": "2026-11-21T23:30:00-00:30"}), False)
    m("offset value: one second later at -05:00", f, ctx("u1", {"ts": "2026-11-21T19:00:01-05:00"}), True)
    m("offset value: epoch ms equal", f, ctx("u1", {"ts": 1795305600000}), False)
    m("offset value: epoch ms later", f, ctx("u1", {"ts": 1795305600001}), True)
    f = fx.op_flag("after-fraction-value", "ts", "after", ["1970-01-01T00:00:00.0015Z"])
    m("sub-millisecond value: 1 ms is before 1.5 ms", f, ctx("u1", {"ts": 1}), False)
    m("sub-millisecond value: 2 ms is after 1.5 ms", f, ctx("u1", {"ts": 2}), True)
    m("sub-millisecond value: 1.6 ms", f, ctx("u1", {"ts": 1.6}), True)
    m("sub-millisecond value: equal", f, ctx("u1", {"ts": "1970-01-01T00:00:00.0015Z"}), False)
    m("sub-millisecond value: 0.001 s string", f, ctx("u1", {"ts": "1970-01-01T00:00:00.001Z"}), False)
    m("sub-millisecond value: nanoseconds later", f, ctx("u1", {"ts": "1970-01-01T00:00:00.001500001Z"}), True)
    f = fx.op_flag("before-any-value", "ts", "before", ["2020-01-01T00:00:00Z", 1800000000000])
    m("before any: before the later value only", f, ctx("u1", {"ts": "2024-06-01T00:00:00Z"}), True)
    m("before any: before both", f, ctx("u1", {"ts": "2019-06-01T00:00:00Z"}), True)
    m("before any: equal to the later, after the earlier", f, ctx("u1", {"ts": 1800000000000}), False)
    m("before any: after both", f, ctx("u1", {"ts": "2030-01-01T00:00:00Z"}), False)
    return fx


# ---------------------------------------------------------------------------
def regex():
    fx = Fixture(
        "regex",
        "matches: the regex matches somewhere in the string (unanchored unless ^/$), Unicode "
        "classes and characters, on strings only.",
    )
    m = fx.is_match
    f = fx.op_flag("matches-anchored", "email", "matches", ["^[a-z]+@example\\.com$"])
    m("anchored: whole match", f, ctx("u1", {"email": "alice@example.com"}), True)
    m("anchored: trailing text", f, ctx("u1", {"email": "alice@example.com.evil"}), False)
    m("anchored: leading text", f, ctx("u1", {"email": "1alice@example.com"}), False)
    m("anchored: escaped dot is literal", f, ctx("u1", {"email": "alice@exampleXcom"}), False)
    m("anchored: $ does not match before a final newline", f, ctx("u1", {"email": "alice@example.com\n"}), False)
    f = fx.op_flag("matches-unanchored", "ua", "matches", ["Mobile"])
    m("unanchored: in the middle", f, ctx("u1", {"ua": "Mozilla/5.0 (iPhone; Mobile) Safari"}), True)
    m("unanchored: case-sensitive", f, ctx("u1", {"ua": "mobile"}), False)
    f = fx.op_flag("matches-negated", "ua", "matches", ["Mobile"], negate=True)
    m("not matches: desktop", f, ctx("u1", {"ua": "Mozilla/5.0 (X11; Linux)"}), True)
    m("not matches: mobile", f, ctx("u1", {"ua": "Mobile Safari"}), False)
    m("not matches: number is no match, so true", f, ctx("u1", {"ua": 5}), True)
    m("not matches: missing attribute stays false", f, ctx("u1"), False)
    f = fx.op_flag("matches-any", "name", "matches", ["^a", "z$"])
    m("any regex: first", f, ctx("u1", {"name": "abc"}), True)
    m("any regex: second", f, ctx("u1", {"name": "xyz"}), True)
    m("any regex: neither", f, ctx("u1", {"name": "mno"}), False)
    f = fx.op_flag("matches-letters", "name", "matches", ["^\\p{L}+$"])
    m("\\p{L}: latin with diaeresis", f, ctx("u1", {"name": "Zoë"}), True)
    m("\\p{L}: CJK letters", f, ctx("u1", {"name": "名前"}), True)
    m("\\p{L}: a digit is not a letter", f, ctx("u1", {"name": "Zoë1"}), False)
    m("\\p{L}: empty string has no letter", f, ctx("u1", {"name": ""}), False)
    f = fx.op_flag("matches-han", "name", "matches", ["\\p{Han}"])
    m("\\p{Han}: contains a Han character", f, ctx("u1", {"name": "user-用户"}), True)
    m("\\p{Han}: none", f, ctx("u1", {"name": "user"}), False)
    f = fx.op_flag("matches-greek", "name", "matches", ["^\\p{Greek}+$"])
    m("\\p{Greek}: Greek word", f, ctx("u1", {"name": "αβγ"}), True)
    m("\\p{Greek}: Latin lookalike", f, ctx("u1", {"name": "abc"}), False)
    f = fx.op_flag("matches-one-char", "name", "matches", ["^.$"])
    m(". is one character: ü (2 bytes)", f, ctx("u1", {"name": "ü"}), True)
    m(". is one character: emoji (4 bytes)", f, ctx("u1", {"name": "😀"}), True)
    m(". is one character: two characters", f, ctx("u1", {"name": "ab"}), False)
    m(". is one character: empty", f, ctx("u1", {"name": ""}), False)
    f = fx.op_flag("matches-case-insensitive", "role", "matches", ["(?i)^admin$"])
    m("(?i): upper case", f, ctx("u1", {"role": "ADMIN"}), True)
    m("(?i): mixed case", f, ctx("u1", {"role": "aDmIn"}), True)
    m("(?i): still anchored", f, ctx("u1", {"role": "admins"}), False)
    f = fx.op_flag("matches-multiline", "text", "matches", ["(?m)^beta$"])
    m("(?m): a middle line", f, ctx("u1", {"text": "alpha\nbeta\ngamma"}), True)
    m("(?m): not a whole line", f, ctx("u1", {"text": "alpha\nbetamax"}), False)
    f = fx.op_flag("matches-number-attribute", "version", "matches", ["^4"])
    m("number attribute is not a string", f, ctx("u1", {"version": 42}), False)
    m("string attribute", f, ctx("u1", {"version": "42"}), True)
    m("boolean attribute is not a string", f, ctx("u1", {"version": True}), False)
    f = fx.op_flag("matches-empty-regex", "name", "matches", [""])
    m("empty regex: any string", f, ctx("u1", {"name": "x"}), True)
    m("empty regex: the empty string", f, ctx("u1", {"name": ""}), True)
    m("empty regex: not a number", f, ctx("u1", {"name": 1}), False)
    f = fx.op_flag("matches-alternation", "email", "matches", ["@(example|test)\\.(com|org)$"])
    m("alternation: test.org", f, ctx("u1", {"email": "x@test.org"}), True)
    m("alternation: other domain", f, ctx("u1", {"email": "x@prod.org"}), False)
    return fx


# ---------------------------------------------------------------------------
def in_lists():
    fx = Fixture(
        "in_lists",
        "List attributes: a clause matches when any element matches (an empty list matches "
        "nothing; negate inverts that), for every kind of operator.",
    )
    m = fx.is_match
    f = fx.op_flag("groups-in", "groups", "in", ["admins", "staff"])
    m("list in: one element listed", f, ctx("u1", {"groups": ["users", "admins"]}), True)
    m("list in: none listed", f, ctx("u1", {"groups": ["users", "guests"]}), False)
    m("list in: empty list matches nothing", f, ctx("u1", {"groups": []}), False)
    m("list in: scalar attribute", f, ctx("u1", {"groups": "admins"}), True)
    m("list in: case-sensitive", f, ctx("u1", {"groups": ["ADMINS"]}), False)
    m("list in: mixed-type list, string element matches", f, ctx("u1", {"groups": [1, True, "staff"]}), True)
    m("list in: mixed-type list, nothing matches", f, ctx("u1", {"groups": [1, True, "x"]}), False)
    f = fx.op_flag("groups-in-negated", "groups", "in", ["admins"], negate=True)
    m("list not in: no element listed", f, ctx("u1", {"groups": ["users"]}), True)
    m("list not in: one element listed", f, ctx("u1", {"groups": ["users", "admins"]}), False)
    m("list not in: empty list matches nothing, negated true", f, ctx("u1", {"groups": []}), True)
    m("list not in: missing attribute stays false", f, ctx("u1"), False)
    f = fx.op_flag("ids-in-numbers", "ids", "in", [7, 9])
    m("number list in: one element", f, ctx("u1", {"ids": [1, 2, 9]}), True)
    m("number list in: strings are not numbers", f, ctx("u1", {"ids": ["7", "9"]}), False)
    f = fx.op_flag("scores-gt", "scores", "gt", [65])
    m("list gt: one element above", f, ctx("u1", {"scores": [1, 50, 99]}), True)
    m("list gt: none above", f, ctx("u1", {"scores": [1, 50, 65]}), False)
    m("list gt: strings are not numbers", f, ctx("u1", {"scores": ["99"]}), False)
    m("list gt: empty list", f, ctx("u1", {"scores": []}), False)
    f = fx.op_flag("scores-lte-negated", "scores", "lte", [10], negate=True)
    m("list not lte: all above", f, ctx("u1", {"scores": [11, 20]}), True)
    m("list not lte: one at or below", f, ctx("u1", {"scores": [11, 10]}), False)
    f = fx.op_flag("tags-contains", "tags", "contains", ["beta"])
    m("list contains: one element contains", f, ctx("u1", {"tags": ["x-beta-y", "z"]}), True)
    m("list contains: none", f, ctx("u1", {"tags": ["alpha", "gamma"]}), False)
    f = fx.op_flag("tags-starts-with", "tags", "starts_with", ["team:"])
    m("list starts_with: second element", f, ctx("u1", {"tags": ["role:dev", "team:core"]}), True)
    f = fx.op_flag("tags-ends-with", "tags", "ends_with", ["-eu"])
    m("list ends_with: first element", f, ctx("u1", {"tags": ["shard-eu", "shard-us"]}), True)
    m("list ends_with: none", f, ctx("u1", {"tags": ["shard-us"]}), False)
    f = fx.op_flag("tags-matches", "tags", "matches", ["^adm"])
    m("list matches: second element", f, ctx("u1", {"tags": ["user", "admin"]}), True)
    m("list matches: none", f, ctx("u1", {"tags": ["user", "sysadmin"]}), False)
    f = fx.op_flag("tags-exists", "tags", "exists")
    m("list exists: non-empty", f, ctx("u1", {"tags": ["a"]}), True)
    m("list exists: an empty list is present", f, ctx("u1", {"tags": []}), True)
    f = fx.op_flag("versions-semver-gt", "versions", "semver_gt", ["2.0.0"])
    m("list semver_gt: one element above, others unparsable", f, ctx("u1", {"versions": ["1.0.0", "junk", "2.1.0"]}), True)
    m("list semver_gt: none above", f, ctx("u1", {"versions": ["1.0.0", "junk"]}), False)
    f = fx.op_flag("logins-after", "logins", "after", ["2026-01-01T00:00:00Z"])
    m("list after: one element later", f, ctx("u1", {"logins": ["2025-01-01T00:00:00Z", 1767225600001]}), True)
    m("list after: none later", f, ctx("u1", {"logins": ["2025-01-01T00:00:00Z", 1767225600000, "junk"]}), False)
    f = fx.op_flag("flags-in-bool", "flags", "in", [True])
    m("bool list in: one true", f, ctx("u1", {"flags": [False, True]}), True)
    m("bool list in: all false", f, ctx("u1", {"flags": [False, "true"]}), False)
    return fx


# ---------------------------------------------------------------------------
def in_list_large():
    fx = Fixture(
        "in_list_large",
        "10 000-value `in` lists (which the engine may turn into hash sets): first, middle, last, "
        "near misses, type distinctions, -0 equals 0, NaN equals nothing, negate.",
    )
    m = fx.is_match
    strings = [f"user-{i:05d}" for i in range(9_998)] + ["用户-7", ""]
    assert len(strings) == 10_000 and len(set(strings)) == 10_000
    fx.add(flag("big-strings", rules=[rule("big-strings", [clause("key", "in", "__BIG_STRINGS__")], variant("on"))]))
    fx.big_lists["__BIG_STRINGS__"] = strings
    f = "big-strings"
    m("strings: first", f, ctx("user-00000"), True)
    m("strings: middle", f, ctx("user-05000"), True)
    m("strings: last ascii", f, ctx("user-09997"), True)
    m("strings: unicode element", f, ctx("用户-7"), True)
    m("strings: empty-string element", f, ctx(""), True)
    m("strings: one past the end", f, ctx("user-09998"), False)
    m("strings: without zero padding", f, ctx("user-5000"), False)
    m("strings: upper case", f, ctx("USER-00001"), False)
    m("strings: trailing space", f, ctx("user-00001 "), False)

    numbers = [i * 3 for i in range(9_996)] + [-7, 1.5, 1e308, "42"]
    # 0 is in the list (i = 0); 42 = 3 * 14 as a number, and "42" as a string.
    assert len(numbers) == 10_000
    fx.add(flag("big-numbers", rules=[rule("big-numbers", [clause("n", "in", "__BIG_NUMBERS__")], variant("on"))]))
    fx.big_lists["__BIG_NUMBERS__"] = numbers
    f = "big-numbers"
    m("numbers: 0", f, ctx("u1", {"n": 0}), True)
    m("numbers: -0.0 equals 0 by value", f, ctx("u1", {"n": -0.0}), True)
    m("numbers: last multiple of 3", f, ctx("u1", {"n": 29985}), True)
    m("numbers: 30.0 equals 30", f, ctx("u1", {"n": 30.0}), True)
    m("numbers: not a multiple of 3", f, ctx("u1", {"n": 31}), False)
    m("numbers: beyond the range", f, ctx("u1", {"n": 29988}), False)
    m("numbers: negative", f, ctx("u1", {"n": -7}), True)
    m("numbers: fraction", f, ctx("u1", {"n": 1.5}), True)
    m("numbers: 1e308", f, ctx("u1", {"n": 1e308}), True)
    m("numbers: number 42 (also listed as a string)", f, ctx("u1", {"n": 42}), True)
    m("numbers: string \"42\" (also listed as a number)", f, ctx("u1", {"n": "42"}), True)
    m("numbers: string \"3\" is not number 3", f, ctx("u1", {"n": "3"}), False)
    m("numbers: NaN equals nothing", f, ctx("u1"), False, numbers={"n": "NaN"})
    m("numbers: Infinity", f, ctx("u1"), False, numbers={"n": "Infinity"})
    m("numbers: true is not 1", f, ctx("u1", {"n": True}), False)
    m("numbers: list with one listed element", f, ctx("u1", {"n": [1, 2, 3]}), True)
    m("numbers: list with none listed", f, ctx("u1", {"n": [1, 2, 4]}), False)

    fx.add(
        flag(
            "big-strings-negated",
            rules=[rule("big-strings-negated", [clause("key", "in", "__BIG_STRINGS__", negate=True)], variant("on"))],
        )
    )
    f = "big-strings-negated"
    m("negated: listed key", f, ctx("user-01234"), False)
    m("negated: unlisted key", f, ctx("someone-else"), True)
    return fx


# ---------------------------------------------------------------------------
def missing_and_mismatch():
    fx = Fixture(
        "missing_and_mismatch",
        "Missing attributes (false, and still false under negate), exists / negate exists, "
        "`key` and `kind` as attributes, and type mismatches (no coercion).",
    )
    m = fx.is_match
    ops = [
        ("in", ["fr"]),
        ("contains", ["x"]),
        ("starts_with", ["x"]),
        ("ends_with", ["x"]),
        ("matches", [".*"]),
        ("eq", [1]),
        ("lt", [1]),
        ("lte", [1]),
        ("gt", [1]),
        ("gte", [1]),
        ("semver_eq", ["1.0.0"]),
        ("semver_lt", ["1.0.0"]),
        ("semver_gt", ["1.0.0"]),
        ("before", ["2026-01-01T00:00:00Z"]),
        ("after", ["2026-01-01T00:00:00Z"]),
    ]
    for op, values in ops:
        f = fx.op_flag(f"missing-{op.replace('_', '-')}", "absent", op, values)
        m(f"missing attribute: {op} is false", f, ctx("u1", {"present": "fr"}), False)
        f = fx.op_flag(f"missing-{op.replace('_', '-')}-negated", "absent", op, values, negate=True)
        m(f"missing attribute: negated {op} stays false", f, ctx("u1", {"present": "fr"}), False)
    f = fx.op_flag("attribute-names-case-sensitive", "country", "in", ["fr"])
    m("attribute names are case-sensitive", f, ctx("u1", {"Country": "fr"}), False)
    m("attribute names: exact name", f, ctx("u1", {"country": "fr"}), True)

    f = fx.op_flag("exists-email", "email", "exists")
    m("exists: string", f, ctx("u1", {"email": "a@b.c"}), True)
    m("exists: empty string is present", f, ctx("u1", {"email": ""}), True)
    m("exists: false is present", f, ctx("u1", {"email": False}), True)
    m("exists: 0 is present", f, ctx("u1", {"email": 0}), True)
    m("exists: NaN is present", f, ctx("u1"), True, numbers={"email": "NaN"})
    m("exists: missing", f, ctx("u1", {"other": "x"}), False)
    f = fx.op_flag("absent-email", "email", "exists", negate=True)
    m("negate exists: missing means absent", f, ctx("u1"), True)
    m("negate exists: present", f, ctx("u1", {"email": "a@b.c"}), False)
    m("negate exists: empty string is present", f, ctx("u1", {"email": ""}), False)

    f = fx.op_flag("key-in", "key", "in", ["alice", ""])
    m("key: the targeting key", f, ctx("alice"), True)
    m("key: another key", f, ctx("bob"), False)
    m("key: the empty key", f, ctx(""), True)
    m(
        "key: names the targeting key, not an attribute called key",
        f,
        ctx("bob", {"key": "alice"}),
        False,
    )
    f = fx.op_flag("key-starts-with", "key", "starts_with", ["svc-"])
    m("key starts_with", f, ctx("svc-billing"), True)
    m("key starts_with: no", f, ctx("user-1"), False)
    f = fx.op_flag("key-exists", "key", "exists")
    m("key always exists, even empty", f, ctx(""), True)
    f = fx.op_flag("kind-in", "kind", "in", ["org"])
    m("kind: matches", f, ctx("acme", kind="org"), True)
    m("kind: another kind", f, ctx("alice", kind="user"), False)
    m("kind: no kind is a missing attribute", f, ctx("alice"), False)
    m("kind: names the context kind, not an attribute called kind", f, ctx("alice", {"kind": "org"}, kind="user"), False)
    f = fx.op_flag("kind-in-negated", "kind", "in", ["org"], negate=True)
    m("not kind: another kind", f, ctx("alice", kind="user"), True)
    m("not kind: no kind stays false", f, ctx("alice"), False)
    m("not kind: an empty kind is present and not org", f, ctx("alice", kind=""), True)
    f = fx.op_flag("kind-in-empty", "kind", "in", [""])
    m("kind: an empty kind is present and equals \"\"", f, ctx("alice", kind=""), True)
    m("kind: no kind is not \"\"", f, ctx("alice"), False)
    f = fx.op_flag("kind-exists", "kind", "exists")
    m("exists kind: with kind", f, ctx("alice", kind="user"), True)
    m("exists kind: without kind", f, ctx("alice"), False)
    f = fx.op_flag("kind-absent", "kind", "exists", negate=True)
    m("negate exists kind: without kind", f, ctx("alice"), True)
    m("negate exists kind: with kind", f, ctx("alice", kind="user"), False)

    f = fx.op_flag("string-in-number-attr", "plan", "in", ["42"])
    m("mismatch: number 42 vs string \"42\"", f, ctx("u1", {"plan": 42}), False)
    f = fx.op_flag("string-in-number-attr-negated", "plan", "in", ["42"], negate=True)
    m("mismatch negated: number 42 vs string \"42\" is true", f, ctx("u1", {"plan": 42}), True)
    f = fx.op_flag("eq-string-attr", "n", "eq", [42])
    m("mismatch: string \"42\" with eq", f, ctx("u1", {"n": "42"}), False)
    f = fx.op_flag("eq-string-attr-negated", "n", "eq", [42], negate=True)
    m("mismatch negated: string \"42\" with eq is true", f, ctx("u1", {"n": "42"}), True)
    f = fx.op_flag("contains-bool-attr", "b", "contains", ["tru"])
    m("mismatch: boolean with contains", f, ctx("u1", {"b": True}), False)
    f = fx.op_flag("starts-with-number-attr", "n", "starts_with", ["4"])
    m("mismatch: number with starts_with", f, ctx("u1", {"n": 42}), False)
    f = fx.op_flag("lt-bool-attr", "n", "lt", [1])
    m("mismatch: false with lt 1", f, ctx("u1", {"n": False}), False)
    f = fx.op_flag("semver-number-attr", "v", "semver_eq", ["2.0.0"])
    m("mismatch: number 2 with semver_eq", f, ctx("u1", {"v": 2}), False)
    f = fx.op_flag("after-bool-attr", "d", "after", [0])
    m("mismatch: boolean with after", f, ctx("u1", {"d": True}), False)
    f = fx.op_flag("after-bool-attr-negated", "d", "after", [0], negate=True)
    m("mismatch negated: boolean with after is true", f, ctx("u1", {"d": True}), True)
    return fx


# ---------------------------------------------------------------------------
def segments():
    fx = Fixture(
        "segments",
        "in_segment: included beats excluded, excluded beats rules, any segment rule (ANDed "
        "clauses) matching means a match; the clause's attribute is ignored; an unknown "
        "segment fails only the flag that names it.",
    )
    fx.add_segment(
        segment(
            "beta-testers",
            included=["alice", "both"],
            excluded=["bob", "both-excluded", "both"],
            rules=[
                ("staff-email", [clause("email", "ends_with", ["@example.com"])]),
                ("eu-enterprise", [clause("plan", "in", ["enterprise"]), clause("region", "in", ["eu"])]),
            ],
        ),
        segment("everyone-but-carol", excluded=["carol"], rules=[("all", [])]),
        segment("nobody"),
        segment("internal", included=["dave"]),
        segment("not-free", rules=[("not-free", [clause("plan", "in", ["free"], negate=True)])]),
    )
    m = fx.is_match
    f = fx.op_flag("seg-beta", "key", "in_segment", ["beta-testers"])
    m("included key", f, ctx("alice"), True)
    m("included and excluded: included wins", f, ctx("both"), True)
    m("excluded beats a matching rule", f, ctx("bob", {"email": "bob@example.com"}), False)
    m("excluded and no rule matches", f, ctx("both-excluded"), False)
    m("first segment rule", f, ctx("carol", {"email": "carol@example.com"}), True)
    m("second segment rule, both clauses", f, ctx("frank", {"plan": "enterprise", "region": "eu"}), True)
    m("second segment rule, one clause fails", f, ctx("frank", {"plan": "enterprise", "region": "us"}), False)
    m("no rule matches", f, ctx("nina", {"email": "nina@gmail.com"}), False)
    m("segment rule on a missing attribute", f, ctx("nina"), False)
    f = fx.op_flag("seg-beta-negated", "key", "in_segment", ["beta-testers"], negate=True)
    m("negated: excluded", f, ctx("bob", {"email": "bob@example.com"}), True)
    m("negated: included", f, ctx("alice"), False)
    m("negated: nobody matches", f, ctx("nina"), True)
    f = fx.op_flag("seg-everyone", "key", "in_segment", ["everyone-but-carol"])
    m("empty segment rule matches everyone", f, ctx("zed"), True)
    m("excluded from a match-everyone segment", f, ctx("carol"), False)
    f = fx.op_flag("seg-any", "key", "in_segment", ["nobody", "internal"])
    m("any named segment: second", f, ctx("dave"), True)
    m("any named segment: none", f, ctx("alice"), False)
    f = fx.op_flag("seg-attribute-ignored", "no-such-attribute", "in_segment", ["internal"])
    m("attribute ignored: missing attribute still matches", f, ctx("dave"), True)
    m("attribute ignored: not in segment", f, ctx("erin"), False)
    f = fx.op_flag("seg-attribute-ignored-negated", "no-such-attribute", "in_segment", ["internal"], negate=True)
    m("attribute ignored, negated: not in segment is true", f, ctx("erin"), True)
    m("attribute ignored, negated: in segment", f, ctx("dave"), False)
    f = fx.op_flag("seg-negated-rule", "key", "in_segment", ["not-free"])
    m("segment rule with negate: pro", f, ctx("u1", {"plan": "pro"}), True)
    m("segment rule with negate: free", f, ctx("u1", {"plan": "free"}), False)
    m("segment rule with negate: missing stays false", f, ctx("u1"), False)
    fx.add(
        flag(
            "seg-combined",
            rules=[
                rule(
                    "beta-and-pro",
                    [clause("key", "in_segment", ["beta-testers"]), clause("plan", "in", ["pro"])],
                    variant("on"),
                )
            ],
        )
    )
    fx.case("segment ANDed with another clause: both", "seg-combined", ctx("alice", {"plan": "pro"}), matched("on", 0, "beta-and-pro"))
    fx.case("segment ANDed with another clause: only segment", "seg-combined", ctx("alice", {"plan": "free"}), default("off"))
    fx.op_flag("seg-unknown", "key", "in_segment", ["no-such-segment"])
    fx.case("unknown segment: the flag fails to compile", "seg-unknown", ctx("alice"), parse_error())
    fx.op_flag("seg-unknown-among-known", "key", "in_segment", ["internal", "no-such-segment"])
    fx.case("unknown segment next to a known one still fails", "seg-unknown-among-known", ctx("dave"), parse_error())
    fx.case("other flags still work next to an unknown segment", "seg-any", ctx("dave"), matched("on", 0, "seg-any"))
    return fx


# ---------------------------------------------------------------------------
def prerequisites():
    fx = Fixture(
        "prerequisites",
        "Prerequisites, in order: the prerequisite flag must exist, be enabled and serve the "
        "required variant for the same context; the first that does not hold gives "
        "off_variant, PREREQUISITE_FAILED and its key.",
    )
    fx.add(
        # `early` names a prerequisite that comes later in the snapshot.
        flag("early", default=variant("on"), prerequisites=[("late", "on")]),
        flag("late", rules=[rule("beta", [clause("beta", "in", [True])], variant("on"))]),
        flag("base", rules=[rule("pro", [clause("plan", "in", ["pro"])], variant("on"))]),
        flag("needs-base-on", default=variant("on"), prerequisites=[("base", "on")]),
        flag("needs-base-off", default=variant("on"), prerequisites=[("base", "off")]),
        flag("disabled-dep", enabled=False, default=variant("on")),
        flag("needs-disabled-off", default=variant("on"), prerequisites=[("disabled-dep", "off")]),
        flag("needs-missing", default=variant("on"), prerequisites=[("no-such-flag", "on")]),
        flag("chain-c", rules=[rule("eu", [clause("region", "in", ["eu"])], variant("on"))]),
        flag("chain-b", default=variant("on"), prerequisites=[("chain-c", "on")]),
        flag("chain-a", default=variant("on"), prerequisites=[("chain-b", "on")]),
        flag("needs-chain-b-off", default=variant("on"), prerequisites=[("chain-b", "off")]),
        flag("multi", default=variant("on"), prerequisites=[("base", "on"), ("chain-c", "on")]),
        flag("targeted", targets=[("on", ["alice"])], default=variant("off"), prerequisites=[("base", "on")]),
        flag("disabled-with-prereq", enabled=False, default=variant("on"), prerequisites=[("no-such-flag", "on")]),
        flag("broken", default=variant("no-such-variant")),
        flag("needs-broken", default=variant("on"), prerequisites=[("broken", "on")]),
        flag(
            "tier",
            kind="string",
            variants=[{"key": "gold", "value": "gold"}, {"key": "silver", "value": "silver"}, {"key": "bronze", "value": "bronze"}],
            off="bronze",
            rules=[rule("enterprise", [clause("plan", "in", ["enterprise"])], variant("gold"))],
            default=variant("silver"),
        ),
        flag(
            "needs-gold",
            kind="string",
            variants=[{"key": "new", "value": "new-ui"}, {"key": "old", "value": "old-ui"}],
            off="old",
            rules=[rule("everyone", [], variant("new"))],
            default=variant("new"),
            prerequisites=[("tier", "gold")],
        ),
        flag("split-dep", default=rollout([("on", 50_000), ("off", 50_000)])),
        flag("needs-split", default=variant("on"), prerequisites=[("split-dep", "on")]),
        flag("fallback-dep", default=rollout([("on", 0), ("off", 100_000)], bucket_by="org", fallback="on")),
        flag("needs-fallback", default=variant("on"), prerequisites=[("fallback-dep", "on")]),
    )
    c = fx.case
    c("prerequisite later in the snapshot: holds", "early", ctx("u1", {"beta": True}), default("on"))
    c("prerequisite later in the snapshot: fails", "early", ctx("u1"), prereq_failed("late"))
    c("satisfied: base serves on", "needs-base-on", ctx("u1", {"plan": "pro"}), default("on"))
    c("wrong variant: base serves off", "needs-base-on", ctx("u1", {"plan": "free"}), prereq_failed("base"))
    c("satisfied by the off variant", "needs-base-off", ctx("u1", {"plan": "free"}), default("on"))
    c("requires off, base serves on", "needs-base-off", ctx("u1", {"plan": "pro"}), prereq_failed("base"))
    c(
        "a disabled prerequisite fails even when its off variant is the required one",
        "needs-disabled-off",
        ctx("u1"),
        prereq_failed("disabled-dep"),
    )
    c("missing prerequisite flag", "needs-missing", ctx("u1"), prereq_failed("no-such-flag"))
    c("chain of 3: all hold", "chain-a", ctx("u1", {"region": "eu"}), default("on"))
    c("chain of 3: the last fails, the first names its direct prerequisite", "chain-a", ctx("u1", {"region": "us"}), prereq_failed("chain-b"))
    c("chain of 3: the middle fails on the last", "chain-b", ctx("u1", {"region": "us"}), prereq_failed("chain-c"))
    c(
        "a prerequisite that failed its own prerequisite serves its off variant, which can be the required one",
        "needs-chain-b-off",
        ctx("u1", {"region": "us"}),
        default("on"),
    )
    c("chain: requires off, but chain-b serves on", "needs-chain-b-off", ctx("u1", {"region": "eu"}), prereq_failed("chain-b"))
    c("several prerequisites: the first failing one is named", "multi", ctx("u1", {"plan": "free", "region": "us"}), prereq_failed("base"))
    c("several prerequisites: the second fails", "multi", ctx("u1", {"plan": "pro", "region": "us"}), prereq_failed("chain-c"))
    c("several prerequisites: all hold", "multi", ctx("u1", {"plan": "pro", "region": "eu"}), default("on"))
    c("prerequisites come before individual targets", "targeted", ctx("alice", {"plan": "free"}), prereq_failed("base"))
    c("targets apply once prerequisites hold", "targeted", ctx("alice", {"plan": "pro"}), target("on"))
    c("disabled comes before prerequisites", "disabled-with-prereq", ctx("u1"), disabled("off"))
    c("a prerequisite that fails to compile", "broken", ctx("u1"), parse_error())
    c("a prerequisite that fails to compile serves nothing, so it does not hold", "needs-broken", ctx("u1"), prereq_failed("broken"))
    c("string prerequisite satisfied", "needs-gold", ctx("u1", {"plan": "enterprise"}), matched("new", 0, "everyone"))
    c("string prerequisite not satisfied: off variant value", "needs-gold", ctx("u1", {"plan": "pro"}), prereq_failed("tier", "old"))

    c(
        "a prerequisite served by its rollout fallback holds (the variant counts, not the reason)",
        "needs-fallback",
        ctx("u1"),
        default("on"),
    )
    c("the same prerequisite by bucket: everyone is off", "needs-fallback", ctx("u1", {"org": "o"}), prereq_failed("fallback-dep"))
    # Find keys on either side of the 50/50 split of split-dep (salt = flag key).
    on_key = next(f"user-{i}" for i in range(1000) if bucket_of(f"split-dep:user-{i}") < 50_000)
    off_key = next(f"user-{i}" for i in range(1000) if bucket_of(f"split-dep:user-{i}") >= 50_000)
    c(
        "prerequisite decided by a rollout: in the on half",
        "needs-split",
        ctx(on_key),
        default("on"),
        note=f"split-dep:{on_key} -> bucket {bucket_of(f'split-dep:{on_key}')} < 50000 -> on",
    )
    c(
        "prerequisite decided by a rollout: in the off half",
        "needs-split",
        ctx(off_key),
        prereq_failed("split-dep"),
        note=f"split-dep:{off_key} -> bucket {bucket_of(f'split-dep:{off_key}')} >= 50000 -> off",
    )
    return fx


# ---------------------------------------------------------------------------
def targets():
    fx = Fixture(
        "targets",
        "Individual targets: the first target whose values contain the context key serves its "
        "variant (TARGETING_MATCH, no rule index), before any rule.",
    )
    colours = [{"key": "blue", "value": "#0000ff"}, {"key": "green", "value": "#00ff00"}, {"key": "red", "value": "#ff0000"}]
    fx.add(
        flag(
            "beta-access",
            targets=[("on", ["alice", "bob", "", "用户-7"]), ("off", ["mallory", "alice"])],
            rules=[rule("everyone", [], variant("off"))],
            default=variant("on"),
        ),
        flag(
            "colour",
            kind="string",
            variants=colours,
            off="red",
            targets=[("green", ["g1", "g2"]), ("red", ["r1"])],
            rules=[rule("france", [clause("country", "in", ["fr"])], variant("blue"))],
            default=variant("red"),
        ),
        flag("disabled-targets", enabled=False, targets=[("on", ["alice"])], default=variant("on")),
        flag("no-targets", default=variant("on")),
    )
    c = fx.case
    c("target beats a rule matching everyone", "beta-access", ctx("alice"), target("on"))
    c("key in two targets: the first wins", "beta-access", ctx("alice", {"x": 1}), target("on"))
    c("second target", "beta-access", ctx("mallory"), target("off"))
    c("untargeted key falls to the rules", "beta-access", ctx("carol"), matched("off", 0, "everyone"))
    c("targets are case-sensitive", "beta-access", ctx("ALICE"), matched("off", 0, "everyone"))
    c("empty key can be targeted", "beta-access", ctx(""), target("on"))
    c("unicode key", "beta-access", ctx("用户-7"), target("on"))
    c("targets match the context key, not an attribute called key", "beta-access", ctx("zed", {"key": "alice"}), matched("off", 0, "everyone"))
    c("targets ignore the kind", "beta-access", ctx("bob", kind="org"), target("on"))
    c("string flag: first target", "colour", ctx("g2"), target("green"))
    c("string flag: target beats a matching rule", "colour", ctx("r1", {"country": "fr"}), target("red"))
    c("string flag: rule", "colour", ctx("x", {"country": "fr"}), matched("blue", 0, "france"))
    c("string flag: default", "colour", ctx("x", {"country": "de"}), default("red"))
    c("disabled beats targets", "disabled-targets", ctx("alice"), disabled("off"))
    c("no targets: default", "no-targets", ctx("alice"), default("on"))
    return fx


# ---------------------------------------------------------------------------
def rollouts():
    fx = Fixture(
        "rollouts",
        "Percentage rollouts: bucket = murmur3_x86_32(seed 0, \"{salt}:{value}\") mod 100000, salt "
        "defaults to the flag key, value is the bucket_by attribute (default the context key); "
        "contexts without a usable bucket_by value get the fallback (default the off variant) "
        "with reason DEFAULT.",
    )
    half = [("on", 50_000), ("off", 50_000)]
    quarter = [("on", 25_000), ("off", 75_000)]
    three = [("control", 33_334), ("treatment-a", 33_333), ("treatment-b", 33_333)]
    three_variants = [
        {"key": "control", "value": "control"},
        {"key": "treatment-a", "value": "a"},
        {"key": "treatment-b", "value": "b"},
    ]
    fx.add(
        flag("ro-default", default=rollout(half)),
        flag(
            "ro-rule",
            rules=[
                rule("not-eu", [clause("region", "in", ["eu"], negate=True)], variant("off")),
                rule("eu-by-org", [clause("region", "in", ["eu"])], rollout(quarter, bucket_by="org")),
            ],
        ),
        flag("ro-fallback", default=rollout(half, bucket_by="org", fallback="on")),
        flag(
            "ro-salt-a",
            kind="string",
            variants=three_variants,
            off="control",
            default=rollout(three, salt="shared-salt"),
        ),
        flag(
            "ro-salt-b",
            kind="string",
            variants=three_variants,
            off="control",
            default=rollout(three, salt="shared-salt"),
        ),
        flag("ro-numeric", default=rollout(half, bucket_by="org_id", fallback="off")),
        flag("ro-none", default=rollout([("on", 0), ("off", 100_000)])),
        flag("ro-all", default=rollout([("on", 100_000), ("off", 0)])),
        flag("ramp-10", default=rollout([("on", 10_000), ("off", 90_000)], salt="ramp")),
        flag("ramp-20", default=rollout([("on", 20_000), ("off", 80_000)], salt="ramp")),
        flag("ro-unicode-salt", default=rollout([("on", 10_000), ("off", 90_000)], salt="ünïcode-salt")),
        flag("ro-by-key", default=rollout(half, bucket_by="key")),
        flag("ro-by-kind", default=rollout(half, bucket_by="kind")),
        flag("search-v2", default=rollout([("on", 10_000), ("off", 90_000)], bucket_by="org")),
        flag("ro-off-variant-on", off="on", default=rollout(half, bucket_by="org")),
        flag(
            "ro-rule-fallback",
            off="off",
            rules=[rule("by-team", [], rollout(half, bucket_by="team", fallback="on"))],
        ),
        flag("ro-explicit-algorithm", default=rollout(half, algorithm=1)),
    )
    c = fx.case
    for key in ["user-1", "user-2", "user-3", "用户-7", "", "a3f9c2e1-77b2-4c4e-9d51-0f7c1e2d5b90"]:
        c(f"default_serve rollout by key {key!r}", "ro-default", ctx(key), split(f"ro-default:{key}", half))
    c(
        "rollout by another attribute in a rule",
        "ro-rule",
        ctx("u1", {"region": "eu", "org": "org-981"}),
        split("ro-rule:org-981", quarter, rule=(1, "eu-by-org")),
    )
    c(
        "same org, another user: same bucket",
        "ro-rule",
        ctx("u2", {"region": "eu", "org": "org-981"}),
        split("ro-rule:org-981", quarter, rule=(1, "eu-by-org")),
    )
    for org in ["org-1", "org-2", "org-3", "org-4"]:
        c(f"rule rollout by org {org}", "ro-rule", ctx("u1", {"region": "eu", "org": org}), split(f"ro-rule:{org}", quarter, rule=(1, "eu-by-org")))
    c("rule rollout, no org: the off variant, keeping the rule", "ro-rule", ctx("u1", {"region": "eu"}), fallback("off", rule=(1, "eu-by-org")))
    c("rule before the rollout rule", "ro-rule", ctx("u1", {"region": "us", "org": "org-1"}), matched("off", 0, "not-eu"))
    c("explicit fallback for a context without the attribute", "ro-fallback", ctx("u1"), fallback("on"))
    c("explicit fallback for a list attribute", "ro-fallback", ctx("u1", {"org": ["org-1"]}), fallback("on"))
    c("explicit fallback for an empty list", "ro-fallback", ctx("u1", {"org": []}), fallback("on"))
    c("fallback not used when the attribute is present", "ro-fallback", ctx("u1", {"org": "org-1"}), split("ro-fallback:org-1", half))
    c("empty string is a value", "ro-fallback", ctx("u1", {"org": ""}), split("ro-fallback:", half))
    c("default fallback is the off variant", "ro-off-variant-on", ctx("u1"), fallback("on"))
    c("rule rollout with explicit fallback keeps the rule", "ro-rule-fallback", ctx("u1"), fallback("on", rule=(0, "by-team")))
    c("rule rollout by team", "ro-rule-fallback", ctx("u1", {"team": "core"}), split("ro-rule-fallback:core", half, rule=(0, "by-team")))

    num = "ro-numeric:"
    c("numeric bucket_by: 42 renders as \"42\"", "ro-numeric", ctx("u1", {"org_id": 42}), split(num + "42", half))
    c("numeric bucket_by: 42.0 renders as \"42\"", "ro-numeric", ctx("u1", {"org_id": 42.0}), split(num + "42", half))
    c("numeric bucket_by: string \"42\" hashes like 42", "ro-numeric", ctx("u1", {"org_id": "42"}), split(num + "42", half))
    c("numeric bucket_by: negative integer", "ro-numeric", ctx("u1", {"org_id": -7}), split(num + "-7", half))
    c("numeric bucket_by: fraction", "ro-numeric", ctx("u1", {"org_id": 42.5}), split(num + "42.5", half))
    c("numeric bucket_by: 0.1 (shortest round-trip)", "ro-numeric", ctx("u1", {"org_id": 0.1}), split(num + "0.1", half))
    c("numeric bucket_by: 1e-7 without exponent", "ro-numeric", ctx("u1", {"org_id": 1e-7}), split(num + "0.0000001", half))
    c("numeric bucket_by: 1e21 without exponent", "ro-numeric", ctx("u1", {"org_id": 1e21}), split(num + "1" + "0" * 21, half))
    c("numeric bucket_by: 1e308 without exponent", "ro-numeric", ctx("u1", {"org_id": 1e308}), split(num + "1" + "0" * 308, half))
    c(
        "numeric bucket_by: 9007199254740993 is 2^53 as f64",
        "ro-numeric",
        ctx("u1", {"org_id": 9007199254740993}),
        split(num + "9007199254740992", half),
    )
    c("numeric bucket_by: 12345", "ro-numeric", ctx("u1", {"org_id": 12345}), split(num + "12345", half))
    c("numeric bucket_by: 1e16 (beyond 2^53)", "ro-numeric", ctx("u1", {"org_id": 1e16}), split(num + "1" + "0" * 16, half))
    c("numeric bucket_by: 1e19 (beyond i64)", "ro-numeric", ctx("u1", {"org_id": 1e19}), split(num + "1" + "0" * 19, half))
    c(
        "numeric bucket_by: 1.2345678901234568e20, shortest digits then zeros",
        "ro-numeric",
        ctx("u1", {"org_id": 1.2345678901234568e20}),
        split(num + "123456789012345680000", half),
    )
    c("numeric bucket_by: -1e21", "ro-numeric", ctx("u1", {"org_id": -1e21}), split(num + "-1" + "0" * 21, half))
    c(
        "numeric bucket_by: 0.1 + 0.2 keeps all 17 digits",
        "ro-numeric",
        ctx("u1", {"org_id": 0.30000000000000004}),
        split(num + "0.30000000000000004", half),
    )
    c("numeric bucket_by: negative fraction", "ro-numeric", ctx("u1", {"org_id": -0.5}), split(num + "-0.5", half))
    c(
        "numeric bucket_by: smallest subnormal without exponent",
        "ro-numeric",
        ctx("u1", {"org_id": 5e-324}),
        split(num + "0." + "0" * 323 + "5", half),
    )
    c(
        "numeric bucket_by: -0.0 renders as \"0\"",
        "ro-numeric",
        ctx("u1", {"org_id": -0.0}),
        split(num + "0", half),
        note="docs/evaluation.md: -0 renders as 0 (as JavaScript's String(-0) does)",
    )
    c("boolean bucket_by renders as \"true\"", "ro-numeric", ctx("u1", {"org_id": True}), split(num + "true", half))
    c("boolean bucket_by renders as \"false\"", "ro-numeric", ctx("u1", {"org_id": False}), split(num + "false", half))
    c("NaN bucket_by: no bucket", "ro-numeric", ctx("u1"), fallback("off"), numbers={"org_id": "NaN"})
    c("Infinity bucket_by: no bucket", "ro-numeric", ctx("u1"), fallback("off"), numbers={"org_id": "Infinity"})
    c("-Infinity bucket_by: no bucket", "ro-numeric", ctx("u1"), fallback("off"), numbers={"org_id": "-Infinity"})
    c("list bucket_by: no bucket", "ro-numeric", ctx("u1", {"org_id": [42]}), fallback("off"))

    c("weight 0 for on: everyone off", "ro-none", ctx("user-1"), split("ro-none:user-1", [("on", 0), ("off", 100_000)]))
    c("weight 100000 for on: everyone on", "ro-all", ctx("user-1"), split("ro-all:user-1", [("on", 100_000), ("off", 0)]))
    c("explicit algorithm 1", "ro-explicit-algorithm", ctx("user-1"), split("ro-explicit-algorithm:user-1", half))

    for key in ["user-1", "user-2", "user-3", "user-4"]:
        c(f"shared salt, flag a, {key}", "ro-salt-a", ctx(key), split(f"shared-salt:{key}", three))
        c(f"shared salt, flag b, {key}: same bucket as flag a", "ro-salt-b", ctx(key), split(f"shared-salt:{key}", three))

    # Ramping 10% -> 20% with one salt keeps everyone who was in.
    def band(lo, hi):
        return next(f"user-{i}" for i in range(10_000) if lo <= bucket_of(f"ramp:user-{i}") < hi)

    for label, key in [("in at 10%", band(0, 10_000)), ("joins at 20%", band(10_000, 20_000)), ("out at 20%", band(20_000, 100_000))]:
        c(f"ramp {label}: 10%", "ramp-10", ctx(key), split(f"ramp:{key}", [("on", 10_000), ("off", 90_000)]))
        c(f"ramp {label}: 20%", "ramp-20", ctx(key), split(f"ramp:{key}", [("on", 20_000), ("off", 80_000)]))

    c("unicode salt and key (golden vector)", "ro-unicode-salt", ctx("用户-7"), split("ünïcode-salt:用户-7", [("on", 10_000), ("off", 90_000)]))
    c("bucket_by \"key\" is the context key", "ro-by-key", ctx("user-1", {"key": "someone-else"}), split("ro-by-key:user-1", half))
    c("bucket_by \"kind\" is the context kind", "ro-by-kind", ctx("user-1", kind="org"), split("ro-by-kind:org", half))
    c("bucket_by \"kind\" without a kind: no bucket", "ro-by-kind", ctx("user-1"), fallback("off"))
    c("golden vector search-v2:org-981", "search-v2", ctx("u", {"org": "org-981"}), split("search-v2:org-981", [("on", 10_000), ("off", 90_000)]))
    c("golden vector search-v2 with empty org", "search-v2", ctx("u", {"org": ""}), split("search-v2:", [("on", 10_000), ("off", 90_000)]))
    return fx


# ---------------------------------------------------------------------------
def reasons():
    fx = Fixture(
        "reasons",
        "Every reason (DEFAULT, TARGETING_MATCH, SPLIT, DISABLED, PREREQUISITE_FAILED, ERROR with "
        "FLAG_NOT_FOUND and PARSE_ERROR), rule index and id, first matching rule wins, values of "
        "every flag kind.",
    )
    letters = [{"key": k, "value": k.upper()} for k in ["a", "b", "c", "d"]]
    fx.add(
        flag(
            "ordered-rules",
            kind="string",
            variants=letters,
            off="d",
            rules=[
                rule("fr-only", [clause("country", "in", ["fr"])], variant("a"), description="France"),
                rule("fr-or-de", [clause("country", "in", ["fr", "de"])], variant("b")),
                rule("de-and-pro", [clause("country", "in", ["de"]), clause("plan", "in", ["pro"])], variant("c")),
                rule("pro-and-beta", [clause("plan", "in", ["pro"]), clause("beta", "in", [True])], variant("c")),
            ],
            default=variant("d"),
        ),
        flag("everyone-rule", rules=[rule("all", [], variant("on"))]),
        flag("plain-default", default=variant("on")),
        flag("plain-disabled", enabled=False, targets=[("on", ["alice"])], rules=[rule("all", [], variant("on"))], default=variant("on")),
        flag("needs-disabled", default=variant("on"), prerequisites=[("plain-disabled", "on")]),
        flag("split-rule", rules=[rule("beta", [clause("beta", "in", [True])], rollout([("on", 50_000), ("off", 50_000)]))]),
        flag("bad-off-variant", off="nope", default=variant("on")),
        flag(
            "number-flag",
            kind="number",
            variants=[{"key": "low", "value": 0.5}, {"key": "high", "value": 100}, {"key": "zero", "value": 0}],
            off="zero",
            rules=[rule("vip", [clause("vip", "in", [True])], variant("high"))],
            default=variant("low"),
        ),
        flag(
            "json-flag",
            kind="json",
            variants=[
                {"key": "small", "value": {"limit": 10, "features": ["a"], "nested": {"ok": True}}},
                {"key": "none", "value": None},
                {"key": "list", "value": [1, "two", 3.5]},
            ],
            off="none",
            rules=[rule("list-users", [clause("key", "starts_with", ["list-"])], variant("list"))],
            default=variant("small"),
        ),
        flag("json-disabled", kind="json", variants=[{"key": "none", "value": None}, {"key": "x", "value": {"a": 1}}], enabled=False, off="none", default=variant("x")),
    )
    c = fx.case
    c("TARGETING_MATCH from rule 0", "ordered-rules", ctx("u1", {"country": "fr"}), matched("a", 0, "fr-only"))
    c("first match wins: rule 1 although rule 2 matches too", "ordered-rules", ctx("u1", {"country": "de", "plan": "pro"}), matched("b", 1, "fr-or-de"))
    c("rule 1", "ordered-rules", ctx("u1", {"country": "de"}), matched("b", 1, "fr-or-de"))
    c("rule 3 after two rules fail", "ordered-rules", ctx("u1", {"country": "us", "plan": "pro", "beta": True}), matched("c", 3, "pro-and-beta"))
    c("ANDed clauses: one fails, so default", "ordered-rules", ctx("u1", {"country": "us", "plan": "pro"}), default("d"))
    c("DEFAULT", "ordered-rules", ctx("u1"), default("d"))
    c("empty clause list matches everyone", "everyone-rule", ctx("anyone"), matched("on", 0, "all"))
    c("DEFAULT with no rules", "plain-default", ctx("u1"), default("on"))
    c("DISABLED beats targets and rules", "plain-disabled", ctx("alice"), disabled("off"))
    c("PREREQUISITE_FAILED", "needs-disabled", ctx("u1"), prereq_failed("plain-disabled"))
    key = next(f"user-{i}" for i in range(1000) if bucket_of(f"split-rule:user-{i}") < 50_000)
    c("SPLIT from a rule carries its index, id and bucket", "split-rule", ctx(key, {"beta": True}), split(f"split-rule:{key}", [("on", 50_000), ("off", 50_000)], rule=(0, "beta")))
    c("no rule matches a rollout rule: default", "split-rule", ctx(key, {"beta": False}), default("off"))
    c("ERROR FLAG_NOT_FOUND", "no-such-flag", ctx("u1"), not_found())
    c("ERROR FLAG_NOT_FOUND is case-sensitive", "Plain-Default", ctx("u1"), not_found())
    c("ERROR FLAG_NOT_FOUND for the empty key", "", ctx("u1"), not_found())
    c("ERROR PARSE_ERROR", "bad-off-variant", ctx("u1"), parse_error())
    c("number value by rule", "number-flag", ctx("u1", {"vip": True}), matched("high", 0, "vip"))
    c("number value by default", "number-flag", ctx("u1"), default("low"))
    c("json value by default", "json-flag", ctx("u1"), default("small"))
    c("json list value", "json-flag", ctx("list-1"), matched("list", 0, "list-users"))
    c("json null value when disabled", "json-disabled", ctx("u1"), disabled("none"))
    return fx


# ---------------------------------------------------------------------------
def compile_failures():
    fx = Fixture(
        "compile_failures",
        "Flags whose config the server should have rejected fail to compile: ERROR PARSE_ERROR, "
        "no value, even when disabled; every other flag of the snapshot still works.",
    )
    on = variant("on")
    fx.add_segment(
        segment("ok-seg", included=["alice"]),
        segment("bad-regex-seg", rules=[("r", [clause("email", "matches", ["(unclosed"])])]),
    )

    def one_clause(key, op, values):
        return flag(key, rules=[rule("r", [clause("x", op, values)], on)])

    fx.add(
        flag("good", rules=[rule("alice", [clause("key", "in", ["alice"])], on)]),
        flag("good-rollout", default=rollout([("on", 50_000), ("off", 50_000)])),
        flag("bad-off-variant", off="missing", default=on),
        flag("bad-target-variant", targets=[("missing", ["alice"])], default=on),
        flag("bad-rule-variant", rules=[rule("r", [], variant("missing"))]),
        flag("bad-default-variant", default=variant("missing")),
        flag("bad-rollout-variant", default=rollout([("on", 50_000), ("missing", 50_000)])),
        flag("bad-fallback-variant", default=rollout([("on", 50_000), ("off", 50_000)], bucket_by="org", fallback="missing")),
        flag("bad-weights-under", default=rollout([("on", 50_000), ("off", 40_000)])),
        flag("bad-weights-over", default=rollout([("on", 60_000), ("off", 50_000)])),
        flag("bad-weights-empty", default=rollout([])),
        flag("bad-algorithm", default=rollout([("on", 50_000), ("off", 50_000)], algorithm=2)),
        one_clause("bad-regex", "matches", ["(unclosed"]),
        one_clause("bad-regex-backreference", "matches", ["(a)\\1"]),
        one_clause("bad-regex-too-big", "matches", ["(a{1000}){1000}"]),
        one_clause("bad-regex-second-value", "matches", ["^ok$", "[z-a]"]),
        one_clause("bad-semver", "semver_eq", ["not.a.version"]),
        one_clause("bad-semver-v-prefix", "semver_gt", ["v1.2.3"]),
        one_clause("bad-date", "before", ["tomorrow"]),
        one_clause("bad-date-no-time", "after", ["2026-01-01"]),
        one_clause("bad-date-month-13", "after", ["2026-13-01T00:00:00Z"]),
        one_clause("bad-unknown-segment", "in_segment", ["missing-seg"]),
        # A clause value of the wrong type for its operator is a config the
        # server rejects (proto validation), so the flag fails closed.
        one_clause("bad-contains-number-value", "contains", [5]),
        one_clause("bad-starts-with-bool-value", "starts_with", [True]),
        one_clause("bad-eq-string-value", "eq", ["42"]),
        one_clause("bad-gt-bool-value", "gt", [False]),
        one_clause("bad-matches-number-value", "matches", [5]),
        one_clause("bad-semver-number-value", "semver_eq", [2]),
        one_clause("bad-date-bool-value", "before", [True]),
        one_clause("bad-in-segment-number-value", "in_segment", [5]),
        flag("bad-segment-regex", rules=[rule("r", [clause("key", "in_segment", ["bad-regex-seg"])], on)]),
        flag("bad-and-disabled", enabled=False, rules=[rule("r", [clause("x", "matches", ["(unclosed"])], on)]),
        flag(
            "bad-unreachable-rule",
            rules=[rule("all", [], on), rule("never", [clause("x", "matches", ["(unclosed"])], on)],
        ),
        flag("cycle-a", default=on, prerequisites=[("cycle-b", "on")]),
        flag("cycle-b", default=on, prerequisites=[("cycle-a", "on")]),
        flag("self-cycle", default=on, prerequisites=[("self-cycle", "on")]),
        flag("needs-bad-regex", default=on, prerequisites=[("bad-regex", "on")]),
        flag("uses-ok-seg", rules=[rule("r", [clause("key", "in_segment", ["ok-seg"])], on)]),
    )
    # deep-00 -> deep-01 -> ... -> deep-12: deep-00 sits 12 prerequisites deep.
    for i in range(13):
        prereqs = [(f"deep-{i + 1:02d}", "on")] if i < 12 else []
        fx.add(flag(f"deep-{i:02d}", default=on, prerequisites=prereqs))

    c = fx.case
    for f in [x["key"] for x in fx.flags if x["key"].startswith("bad-")]:
        for key in ["alice", "u1"]:
            c(f"{f} ({key})", f, ctx(key, {"x": "a", "org": "o", "email": "e"}), parse_error())
    c("prerequisite cycle: a", "cycle-a", ctx("u1"), parse_error())
    c("prerequisite cycle: b", "cycle-b", ctx("u1"), parse_error())
    c("flag that is its own prerequisite", "self-cycle", ctx("u1"), parse_error())
    c("prerequisite chain deeper than 10", "deep-00", ctx("u1"), parse_error())
    c("prerequisite chain: the leaf works", "deep-12", ctx("u1"), default("on"))
    c("prerequisite chain: 7 deep works", "deep-05", ctx("u1"), default("on"))
    c("prerequisite chain: 10 deep is not deeper than 10", "deep-02", ctx("u1"), default("on"))
    c("prerequisite chain: 11 deep is deeper than 10", "deep-01", ctx("u1"), parse_error())
    c("a flag needing a broken flag fails its prerequisite", "needs-bad-regex", ctx("u1"), prereq_failed("bad-regex"))
    c("good flag next to broken ones: rule", "good", ctx("alice"), matched("on", 0, "alice"))
    c("good flag next to broken ones: default", "good", ctx("bob"), default("off"))
    key = "user-1"
    c("good rollout next to broken ones", "good-rollout", ctx(key), split(f"good-rollout:{key}", [("on", 50_000), ("off", 50_000)]))
    c("good segment next to a broken segment", "uses-ok-seg", ctx("alice"), matched("on", 0, "r"))
    c("missing flag among broken ones", "nothing-here", ctx("u1"), not_found())
    return fx


THEMES = [
    operators_strings,
    operators_numbers,
    operators_semver,
    operators_dates,
    regex,
    in_lists,
    in_list_large,
    missing_and_mismatch,
    segments,
    prerequisites,
    targets,
    rollouts,
    reasons,
    compile_failures,
]


def main():
    n = check_vectors()
    print(f"murmur3 reproduces {n} golden vectors")
    total = pending = 0
    for theme in THEMES:
        path, count, waiting = theme().write()
        total += count
        pending += waiting
        print(f"{path.name}: {count} cases" + (f" (+{waiting} pending)" if waiting else ""))
    print(f"{total} cases in {len(THEMES)} files, {pending} pending in spec/pending/")


if __name__ == "__main__":
    sys.exit(main())
