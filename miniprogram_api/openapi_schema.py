"""OpenAPI 3.0 schemas from the pydantic models that parse requests and shape responses.

sanic-ext inlines a model's ``properties`` only: it drops ``required`` and nested models (leaving
``#/$defs/...`` references that resolve nowhere), reads a Decimal's methods as its properties, and emits
JSON Schema 2020-12 keywords (``exclusiveMinimum: 0``, ``type: "null"``) that OpenAPI 3.0 does not
allow. So the endpoint declares each schema as a placeholder here, and once every route is declared,
``install()`` generates all models together with pydantic (names stay unique across modules), converts
them to OpenAPI 3.0 and fills the placeholders in; nested models become ``components/schemas``.
"""

from __future__ import annotations

from inspect import isclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema
from sanic_ext.extensions.openapi.types import Schema

Mode = Literal["validation", "serialization"]
REF = "#/components/schemas/{model}"

DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
"""A Decimal in an answer: its exact text (``"88.50"``), never a float or an exponent."""


class _Generator(GenerateJsonSchema):
    """Decimals are documented as what they are on the wire: text with a pattern (answers always; a
    request may send a number or text)."""

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> JsonSchemaValue:
        out = super().decimal_schema(schema)
        if self.mode == "serialization":
            return {"type": "string", "format": "decimal", "pattern": DECIMAL_PATTERN}
        for branch in out.get("anyOf", []):
            if branch.get("type") == "string":
                branch.setdefault("pattern", r"^[+-]?[0-9]*\.?[0-9]+$")
                branch["format"] = "decimal"
        return out


_schemas: list[tuple[dict[str, Any], type[BaseModel], Mode]] = []
_fields: list[tuple[dict[str, Any], type[BaseModel], str]] = []
_components: dict[str, Any] = {}
_built_for = (-1, -1)


class RawSchema(Schema):
    """A schema sanic-ext emits as it is (its own ``Schema.make`` would read a dict as an object's
    properties); it keeps the dict itself, so a placeholder filled later is what gets served."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._fields = schema


def schema_of(tp: Any, mode: Mode) -> dict[str, Any]:
    """The schema of a model (a placeholder filled by ``components()``) or of a raw JSON Schema."""
    if isclass(tp) and issubclass(tp, BaseModel):
        holder: dict[str, Any] = {}
        _schemas.append((holder, tp, mode))
        return holder
    if isinstance(tp, dict):
        return to_oas30(tp)
    raise TypeError(f"cannot document {tp!r}: give a pydantic model or a JSON Schema dict")


def field_schema(model: type[BaseModel], name: str) -> dict[str, Any]:
    """The schema of one field of a query model, for its query parameter."""
    holder: dict[str, Any] = {}
    _fields.append((holder, model, name))
    return holder


def components() -> dict[str, Any]:
    """Generate every declared model at once and fill the placeholders; the schemas components."""
    global _built_for
    if _built_for == (len(_schemas), len(_fields)):
        return _components
    wanted: dict[tuple[type[BaseModel], Mode], None] = {}
    for _, model, mode in _schemas:
        wanted[(model, mode)] = None
    for _, model, _name in _fields:
        wanted[(model, "validation")] = None
    refs, definitions = models_json_schema(list(wanted), ref_template=REF, schema_generator=_Generator)
    defs = definitions.get("$defs", {})
    for holder, model, mode in _schemas:
        holder.clear()
        holder.update(to_oas30(refs[(model, mode)]))
    for holder, model, name in _fields:
        own = defs[refs[(model, "validation")]["$ref"].rsplit("/", 1)[1]]
        field = model.model_fields[name]
        holder.clear()
        holder.update(to_oas30(own["properties"][field.alias or name]))
    for _, model, mode in _schemas:
        if mode == "validation":
            _forbid_extra(refs[(model, mode)], defs)
    _components.clear()
    _components.update({key: to_oas30(value) for key, value in defs.items()})
    _built_for = (len(_schemas), len(_fields))
    return _components


def _forbid_extra(schema: dict[str, Any], defs: dict[str, Any]) -> None:
    """A request body takes no field its model does not declare (endpoint.parse_json_body refuses
    them, nested objects too): say so in every object schema a body reaches."""
    stack: list[Any] = [schema]
    seen: set[str] = set()
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF.format(model="")):
            name = ref.rsplit("/", 1)[1]
            if name not in seen:
                seen.add(name)
                stack.append(defs[name])
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        stack.extend(value for key, value in node.items() if key != "$ref")


def to_oas30(node: Any) -> Any:
    """JSON Schema 2020-12 as pydantic writes it → the OpenAPI 3.0 schema dialect."""
    if isinstance(node, list):
        return [to_oas30(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$defs", "propertyNames", "contentMediaType", "contentEncoding", "$schema"):
            continue
        if key in ("properties", "patternProperties"):
            out[key] = {name: to_oas30(sub) for name, sub in value.items()}
        elif key == "exclusiveMinimum" and not isinstance(value, bool):
            out["minimum"], out["exclusiveMinimum"] = value, True
        elif key == "exclusiveMaximum" and not isinstance(value, bool):
            out["maximum"], out["exclusiveMaximum"] = value, True
        elif key == "const":
            out["enum"] = [value]
        elif key == "examples":
            if isinstance(value, list) and value:
                out["example"] = value[0]
        elif key == "prefixItems":
            out["items"] = {"anyOf": to_oas30(value)} if value else {}
        elif key == "discriminator" and isinstance(value, dict):
            out[key] = {k: v for k, v in value.items() if k in ("propertyName", "mapping")}
        else:
            out[key] = to_oas30(value)
    if isinstance(out.get("type"), list):
        types = [t for t in out["type"] if t != "null"]
        if len(types) < len(out["type"]):
            out["nullable"] = True
        out["type"] = types[0] if len(types) == 1 else "string"
    if out.get("type") == "null":
        del out["type"]
        out["nullable"] = True
    if out.get("type") == "array" and "items" not in out:
        out["items"] = {}
    for combiner in ("anyOf", "oneOf"):
        options = out.get(combiner)
        if not isinstance(options, list):
            continue
        kept = [o for o in options if o != {"nullable": True}]
        if len(kept) < len(options):
            out["nullable"] = True
        if len(kept) == 1:
            del out[combiner]
            only = kept[0]
            if "$ref" in only:
                out.setdefault("allOf", []).append(only)
            else:
                out = {**only, **out}
        elif kept:
            out[combiner] = kept
        else:
            del out[combiner]
    if "$ref" in out and len(out) > 1:
        # OpenAPI 3.0 ignores a $ref's siblings: keep description, nullable and default by wrapping it.
        ref = {"$ref": out.pop("$ref")}
        out = {**out, "allOf": [ref, *out.get("allOf", [])]}
    if "allOf" in out:
        out["allOf"] = [s for s in out["allOf"] if s]
    if out.get("nullable") and len(out.get("allOf", [])) == 1 and "$ref" in out["allOf"][0]:
        # A nullable reference: 3.0 validators check null against the referenced object schema too
        # (and refuse it), so null is spelled as a branch of its own.
        ref = out["allOf"][0]
        out = {k: v for k, v in out.items() if k not in ("allOf", "nullable")}
        out["anyOf"] = [ref, {"enum": [None], "nullable": True}]
    return out
