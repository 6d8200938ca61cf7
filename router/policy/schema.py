"""The JSON Schema of policy files, and the policy reference generated from it.

``hybrid-router schema`` writes ``policies/schema.json`` (point your editor's YAML
language server at it) and ``docs/policy-reference.md``; a test keeps both in step with the
models.
"""

from __future__ import annotations

import json
from typing import Any, get_args

from pydantic import BaseModel

from router.policy.model import Policy

SCHEMA_ID = "https://hybrid-router.dev/schema/policy-v1.json"


def policy_schema() -> dict[str, Any]:
    schema = Policy.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "hybrid-router team policy (version 1)",
        **schema,
    }


def schema_text() -> str:
    return json.dumps(policy_schema(), indent=2, sort_keys=False) + "\n"


def _type(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in prop:
        return f"[{prop['$ref'].rsplit('/', 1)[-1]}](#{prop['$ref'].rsplit('/', 1)[-1].lower()})"
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    if "anyOf" in prop:
        return " or ".join(_type(p, defs) for p in prop["anyOf"])
    t = prop.get("type", "any")
    if t == "array":
        return f"list of {_type(prop.get('items', {}), defs)}"
    if t == "object" and "additionalProperties" in prop:
        return f"map of name to {_type(prop['additionalProperties'], defs)}"
    return str(t)


def _limits(prop: dict[str, Any]) -> str:
    parts = []
    for key, sym in (
        ("minimum", ">="),
        ("exclusiveMinimum", ">"),
        ("maximum", "<="),
        ("exclusiveMaximum", "<"),
        ("minItems", "items >="),
    ):
        if key in prop:
            parts.append(f"{sym} {prop[key]}")
    for alt in prop.get("anyOf", []):
        sub = _limits(alt)
        if sub:
            parts.append(sub)
    return ", ".join(parts)


def _models() -> dict[str, type[BaseModel]]:
    """Every model the policy is made of, by the name the schema gives it."""
    out: dict[str, type[BaseModel]] = {}
    todo: list[type[BaseModel]] = [Policy]
    while todo:
        model = todo.pop()
        out[model.__name__] = model
        for f in model.model_fields.values():
            for arg in (f.annotation, *get_args(f.annotation)):
                nested = isinstance(arg, type) and issubclass(arg, BaseModel)
                if nested and arg not in todo and arg.__name__ not in out:
                    todo.append(arg)
    return out


def _default(model: type[BaseModel] | None, name: str, prop: dict[str, Any]) -> str:
    """The default as the reader should see it: factories called, sections referred to."""
    if "default" in prop:
        return f"`{json.dumps(prop['default'])}`"
    if model is None or name not in model.model_fields:
        return ""
    value = model.model_fields[name].get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "see its section"
    return f"`{json.dumps(value)}`"


def _table(title: str, obj: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    lines = [f"## {title}", ""]
    if obj.get("description"):
        lines += [" ".join(obj["description"].split()), ""]
    lines += ["| key | type | default | limits | meaning |", "|---|---|---|---|---|"]
    required = set(obj.get("required", []))
    model = _models().get(obj.get("title", ""))
    for name, prop in obj.get("properties", {}).items():
        default = "required" if name in required else _default(model, name, prop)
        desc = " ".join(prop.get("description", "").split())
        lines.append(f"| `{name}` | {_type(prop, defs)} | {default} | {_limits(prop)} | {desc} |")
    return [*lines, ""]


def reference_markdown() -> str:
    """``docs/policy-reference.md``, generated from the schema."""
    schema = policy_schema()
    defs = schema.get("$defs", {})
    out = [
        "# Policy reference (format version 1)",
        "",
        "Generated from `policies/schema.json` by `hybrid-router schema`; do not edit by hand.",
        "Every key is optional except `version`. Unknown keys are errors.",
        "",
    ]
    out += _table("Policy (top level)", schema, defs)
    for name in sorted(defs):
        out += _table(name, defs[name], defs)
    return "\n".join(out).rstrip() + "\n"
