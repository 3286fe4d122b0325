"""Xero's official OpenAPI specs as lenient JSON Schemas, for the sandbox's contract tests.

Lenient on purpose (FACTS.md): `$ref`s resolve against the spec, extra properties are allowed
(Xero returns fields such as DueDateString that the schema lacks), and `format`s (uuid,
date-time — Xero's dates are `/Date(…)/` strings) are not checked. Types, enums and required
fields are.
"""

import functools
import os
from pathlib import Path

import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

ROOT = Path(__file__).resolve().parents[2]
_CANDIDATES = [
    os.environ.get("DUNWELL_SPECS_DIR", ""),
    ROOT.parent / "shared" / "specs",
    ROOT.parents[1] / "shared" / "specs",
    "/work/shared/specs",
]


def specs_dir() -> Path:
    for candidate in _CANDIDATES:
        if candidate and (Path(candidate) / "xero" / "xero_accounting.yaml").exists():
            return Path(candidate)
    raise FileNotFoundError(
        "Xero's OpenAPI specs were not found: set DUNWELL_SPECS_DIR to the shared specs folder."
    )


@functools.cache
def _registry(name: str) -> Registry:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = yaml.load((specs_dir() / "xero" / name).read_text(), Loader=loader)  # noqa: S506
    resource = Resource.from_contents(spec, default_specification=DRAFT7)
    return Registry().with_resource(f"urn:{name}", resource)


def validator(spec: str, schema: str) -> Draft7Validator:
    ref = {"$ref": f"urn:{spec}#/components/schemas/{schema}"}
    return Draft7Validator(ref, registry=_registry(spec))


def assert_matches(spec: str, schema: str, instance) -> None:
    errors = sorted(validator(spec, schema).iter_errors(instance), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
