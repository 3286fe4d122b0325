"""/api/docs/: the OpenAPI schema rendered on the server as a plain page.

Swagger UI and Redoc load their JavaScript and styles from a CDN or inject inline styles, which
Dunwell's Content-Security-Policy ('self' only) forbids and a server without internet could not
fetch; a server-rendered page needs neither, and reads without JavaScript.
"""

from functools import cache

from django.shortcuts import render
from drf_spectacular.generators import SchemaGenerator

METHODS = ("get", "post", "put", "patch", "delete")


@cache
def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema: dict, components: dict) -> dict:
    ref = schema.get("$ref", "")
    return components.get(ref.rsplit("/", 1)[-1], {}) if ref else schema


def _type_of(schema: dict, components: dict) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "allOf" in schema:
        return " & ".join(_type_of(part, components) for part in schema["allOf"])
    if "oneOf" in schema:
        return " or ".join(_type_of(part, components) for part in schema["oneOf"])
    if schema.get("type") == "array":
        return f"array of {_type_of(schema.get('items', {}), components)}"
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"] if v not in ("", None))
    kind = schema.get("type", "object")
    return f"{kind} ({schema['format']})" if schema.get("format") else kind


def _fields(schema: dict, components: dict) -> list[dict]:
    schema = _resolve(schema, components)
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "type": _type_of(prop, components),
            "required": name in required,
            "description": prop.get("description", "")
            or _resolve(prop, components).get("description", ""),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _operations(schema: dict) -> list[dict]:
    components = schema.get("components", {}).get("schemas", {})
    operations = []
    for path, methods in schema.get("paths", {}).items():
        for method in METHODS:
            operation = methods.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            ok = {
                code: response
                for code, response in operation.get("responses", {}).items()
                if code.startswith("2")
            }
            operations.append(
                {
                    "anchor": operation["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "where": p["in"],
                            "type": _type_of(p.get("schema", {}), components),
                            "required": p.get("required", False),
                            "description": p.get("description", ""),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "body": _fields(body["schema"], components) if body else None,
                    "responses": [
                        {
                            "code": code,
                            "fields": _fields(
                                response.get("content", {})
                                .get("application/json", {})
                                .get("schema", {}),
                                components,
                            ),
                        }
                        for code, response in ok.items()
                    ],
                    "errors": sorted(
                        code for code in operation.get("responses", {}) if code[0] in "45"
                    ),
                }
            )
    return operations


def api_docs(request):
    schema = _schema()
    return render(
        request,
        "api/docs.html",
        {"info": schema.get("info", {}), "operations": _operations(schema)},
    )
