"""Helpers that build evaluation fixtures (see spec/README.md for the format).

Nothing here evaluates a flag: every expectation is written out by hand in
gen_cases.py from docs/evaluation.md. The helpers only fill in what follows
mechanically from a hand-written expectation: the served variant's value
(looked up in the fixture's own snapshot) and, for rollouts, the bucket of an
explicitly written `"{salt}:{value}"` string (murmur3.py, checked against the
golden vectors).
"""

import json
import pathlib

from murmur3 import bucket_of, pick_variant

CASES_DIR = pathlib.Path(__file__).resolve().parents[1] / "cases"
PENDING_DIR = pathlib.Path(__file__).resolve().parents[1] / "pending"

BOOL_VARIANTS = [{"key": "on", "value": True}, {"key": "off", "value": False}]


def ctx(key, attrs=None, kind=None):
    """A proto Context."""
    c = {"key": key}
    if kind is not None:
        c["kind"] = kind
    if attrs:
        c["attributes"] = attrs
    return c


def clause(attribute, op, values=(), negate=False):
    # A string stands for a long list written out compactly (Fixture.big_lists).
    c = {"attribute": attribute, "op": op, "values": values if isinstance(values, str) else list(values)}
    if negate:
        c["negate"] = True
    return c


def variant(key):
    return {"variant": key}


def rollout(weights, bucket_by=None, salt=None, fallback=None, algorithm=None):
    r = {}
    if bucket_by is not None:
        r["bucket_by"] = bucket_by
    if salt is not None:
        r["salt"] = salt
    r["weights"] = [{"variant": v, "weight": w} for v, w in weights]
    if fallback is not None:
        r["fallback"] = fallback
    if algorithm is not None:
        r["algorithm"] = algorithm
    return {"rollout": r}


def rule(rule_id, clauses, serve, description=None):
    r = {"id": rule_id}
    if description:
        r["description"] = description
    r["clauses"] = list(clauses)
    r["serve"] = serve
    return r


def flag(
    key,
    kind="boolean",
    variants=None,
    enabled=True,
    off="off",
    targets=(),
    rules=(),
    default=None,
    prerequisites=(),
):
    """A proto SnapshotFlag. `default` is a Serve (defaults to variant `off`)."""
    return {
        "key": key,
        "kind": kind,
        "variants": variants if variants is not None else BOOL_VARIANTS,
        "config": {
            "enabled": enabled,
            "off_variant": off,
            "targets": [{"variant": v, "values": list(keys)} for v, keys in targets],
            "rules": list(rules),
            "default_serve": default if default is not None else variant("off"),
            "prerequisites": [{"flag": f, "variant": v} for f, v in prerequisites],
            "version": 1,
        },
    }


def segment(key, included=(), excluded=(), rules=()):
    return {
        "key": key,
        "name": key,
        "included": list(included),
        "excluded": list(excluded),
        "rules": [{"id": rid, "clauses": list(cl)} for rid, cl in rules],
        "version": 1,
    }


class Expect:
    """A hand-written expectation; `Fixture.case` turns it into an EvaluationResult."""

    def __init__(self, reason, variant=None, rule=None, bucket=None, prerequisite=None, error=None):
        self.reason = reason
        self.variant = variant
        self.rule = rule
        self.bucket = bucket
        self.prerequisite = prerequisite
        self.error = error


def default(v):
    return Expect("DEFAULT", v)


def disabled(v="off"):
    return Expect("DISABLED", v)


def target(v):
    return Expect("TARGETING_MATCH", v)


def matched(v, index, rule_id):
    return Expect("TARGETING_MATCH", v, rule=(index, rule_id))


def prereq_failed(prerequisite, v="off"):
    return Expect("PREREQUISITE_FAILED", v, prerequisite=prerequisite)


def not_found():
    return Expect("ERROR", error="FLAG_NOT_FOUND")


def parse_error():
    return Expect("ERROR", error="PARSE_ERROR")


def fallback(v, rule=None):
    """A context without a usable bucket_by value: reason DEFAULT, no bucket."""
    return Expect("DEFAULT", v, rule=rule)


def split(hashed, weights, rule=None):
    """A rollout decided: the bucket of the written-out `"{salt}:{value}"`."""
    b = bucket_of(hashed)
    v = pick_variant(weights, b)
    e = Expect("SPLIT", v, rule=rule, bucket=b)
    e.note = f"hashes {hashed!r} -> bucket {b}"
    return e


class Fixture:
    def __init__(self, name, description):
        self.name = name
        self.description = description
        self.flags = []
        self.segments = []
        self.cases = []
        self.pending = []
        self.big_lists = {}

    def add(self, *flags):
        for f in flags:
            assert all(x["key"] != f["key"] for x in self.flags), f["key"]
            self.flags.append(f)
        return self

    def add_segment(self, *segments):
        self.segments.extend(segments)
        return self

    def op_flag(self, key, attribute, op, values=(), negate=False):
        """A boolean flag with one rule (id = the flag key) holding one clause,
        serving `on` when it matches; everyone else gets `default_serve` `off`."""
        self.add(flag(key, rules=[rule(key, [clause(attribute, op, values, negate)], variant("on"))]))
        return key

    def is_match(self, name, flag_key, context, match, numbers=None, note=None):
        """A case on an `op_flag`: does its single clause match?"""
        e = matched("on", 0, flag_key) if match else default("off")
        self.case(name, flag_key, context, e, numbers=numbers, note=note)

    def _value(self, flag_key, v):
        for f in self.flags:
            if f["key"] == flag_key:
                for var in f["variants"]:
                    if var["key"] == v:
                        return var["value"]
                raise KeyError(f"{flag_key} has no variant {v}")
        raise KeyError(f"no flag {flag_key}")

    def case(self, name, flag_key, context, e, numbers=None, note=None, pending=None):
        """Adds a case. `pending` (why) marks a case the engine does not pass yet
        although docs/evaluation.md decides it: it goes to spec/pending/ instead
        of spec/cases/, so the suite stays green until the engine is fixed."""
        assert all(c["name"] != name for c in self.cases + self.pending), f"duplicate case name {name}"
        result = {"flag": flag_key}
        if e.variant is not None:
            result["value"] = self._value(flag_key, e.variant)
            result["variant"] = e.variant
        result["reason"] = e.reason
        if e.rule is not None:
            result["rule_index"], result["rule_id"] = e.rule
        if e.bucket is not None:
            result["bucket"] = e.bucket
        if e.prerequisite is not None:
            result["prerequisite"] = e.prerequisite
        if e.error is not None:
            result["error_code"] = e.error
        c = {"name": name, "flag": flag_key, "context": context}
        if numbers:
            c["context_numbers"] = numbers
        c["expected"] = result
        notes = [n for n in (note, getattr(e, "note", None)) if n]
        if notes:
            c["note"] = "; ".join(notes)
        if pending:
            c["pending"] = pending
            self.pending.append(c)
        else:
            self.cases.append(c)

    def write(self):
        path = self._write(CASES_DIR, self.cases)
        pending_path = PENDING_DIR / f"{self.name}.json"
        if self.pending:
            self._write(PENDING_DIR, self.pending)
        elif pending_path.exists():
            pending_path.unlink()
        return path, len(self.cases), len(self.pending)

    def _write(self, directory, cases):
        doc = {
            "description": self.description,
            "snapshot": {
                "environment": "test",
                "version": 1,
                "flags": self.flags,
                "segments": self.segments,
            },
            "cases": cases,
        }
        text = json.dumps(doc, indent=1, ensure_ascii=False)
        # Very long value lists go on one line each so the file stays small.
        for placeholder, values in self.big_lists.items():
            text = text.replace(json.dumps(placeholder), json.dumps(values, ensure_ascii=False))
        directory.mkdir(exist_ok=True)
        path = directory / f"{self.name}.json"
        path.write_text(text + "\n", encoding="utf-8")
        return path
