"""Hypothesis strategies for Socket.IO payloads: valid ones from a pydantic model's JSON
schema, near-misses (one field broken, an unknown field), and plain garbage (wrong types,
huge strings, deep nesting).

Only the JSON-schema subset that pydantic emits for our models is handled; an unknown
keyword falls back to arbitrary JSON, which is still a useful payload to send.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel

Json = Any
SearchStrategy = st.SearchStrategy

HUGE = 40_000
"""Longest generated string: above the 16 KiB message limit (so that the size check is
exercised) and far below the transport's 1 MB cap, which closes the connection by design."""
DEEP = 300
"""Nesting depth of the deepest payloads the client library can still encode from inside
a test (its json.dumps recurses); deeper raw packets are sent by a test of their own."""


def scalars() -> SearchStrategy[Json]:
    return st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                     st.text(max_size=40))


def any_json(max_leaves: int = 20) -> SearchStrategy[Json]:
    return st.recursive(scalars(), lambda kids: st.one_of(
        st.lists(kids, max_size=5), st.dictionaries(st.text(max_size=12), kids, max_size=5)),
        max_leaves=max_leaves)


def huge_strings() -> SearchStrategy[str]:
    return st.builds(lambda ch, n: ch * n, st.sampled_from(["a", "调", "\u0000", "💥", "\\"]),
                     st.integers(min_value=2_000, max_value=HUGE))


def deep_nesting() -> SearchStrategy[Json]:
    def nest(depth: int, as_list: bool) -> Json:
        v: Json = "x"
        for _ in range(depth):
            v = [v] if as_list else {"a": v}
        return v
    return st.builds(nest, st.integers(min_value=50, max_value=DEEP), st.booleans())


def garbage() -> SearchStrategy[Json]:
    """Anything a broken or hostile client might send in place of an object."""
    return st.one_of(any_json(), huge_strings(), deep_nesting(),
                     st.dictionaries(st.text(max_size=8), huge_strings(), max_size=2),
                     st.lists(st.integers(), max_size=3))


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return dict(defs[ref.split("/")[-1]])
    return schema


def from_schema(schema: dict[str, Any], defs: dict[str, Any] | None = None
                ) -> SearchStrategy[Json]:
    """Values valid under ``schema`` (the subset pydantic emits)."""
    defs = defs if defs is not None else schema.get("$defs", {})
    schema = _resolve(schema, defs)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of(*(from_schema(s, defs) for s in schema[key]))
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        lo = schema.get("minimum", schema.get("exclusiveMinimum", -(2 ** 31) - 1) + 1)
        hi = schema.get("maximum", schema.get("exclusiveMaximum", 2 ** 31 + 1) - 1)
        return st.integers(min_value=lo, max_value=hi)
    if kind == "number":
        return st.floats(min_value=schema.get("minimum", schema.get("exclusiveMinimum")),
                         max_value=schema.get("maximum", schema.get("exclusiveMaximum")),
                         exclude_min="exclusiveMinimum" in schema,
                         exclude_max="exclusiveMaximum" in schema, allow_nan=False)
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(re.compile(schema["pattern"]), fullmatch=True)
        lo = int(schema.get("minLength", 0))
        return st.text(min_size=lo, max_size=min(int(schema.get("maxLength", 200)), 300)) \
            .filter(lambda s: len(s.strip()) >= lo)
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), defs),
                        max_size=min(int(schema.get("maxItems", 5)), 5))
    if kind == "object":
        return _object(schema, defs)
    return any_json(5)


def _object(schema: dict[str, Any], defs: dict[str, Any]) -> SearchStrategy[Json]:
    props: dict[str, Any] = schema.get("properties", {})
    if not props:
        extra = schema.get("additionalProperties")
        values = from_schema(extra, defs) if isinstance(extra, dict) else any_json(5)
        keys = st.text(max_size=min(int(schema.get("propertyNames", {}).get("maxLength", 20)),
                                    20))
        return st.dictionaries(keys, values, max_size=min(int(schema.get("maxProperties", 4)),
                                                          4))
    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {k: from_schema(v, defs) for k, v in props.items() if k in required},
        optional={k: from_schema(v, defs) for k, v in props.items() if k not in required})


def near_misses(schema: dict[str, Any]) -> SearchStrategy[Json]:
    """A valid object with one field broken, or with a field the model does not know."""
    valid = from_schema(schema)

    def break_one(valid_obj: Json, data: st.DataObject) -> Json:
        if not isinstance(valid_obj, dict):
            return valid_obj
        obj: dict[str, Json] = dict(valid_obj)
        keys: list[str] = sorted(obj) + list(schema.get("properties", {}))
        break_known: bool = data.draw(st.booleans())
        if keys and break_known:
            obj[data.draw(st.sampled_from(keys))] = data.draw(garbage())
        else:
            obj[data.draw(st.text(min_size=1, max_size=10))] = data.draw(scalars())
        return obj
    return st.builds(break_one, valid, st.data())


def payloads(model: type[BaseModel]) -> SearchStrategy[Json]:
    """What a fuzzer sends for an event whose payload is ``model``: a mix of the three."""
    schema = model.model_json_schema()
    return st.one_of(from_schema(schema), near_misses(schema), garbage())
