"""A small, strict JSON Schema (draft 2020-12) validator for ocidoctor's tests.

There is no jsonschema package on the test machines (and no pip), so this
module validates a document against the subset of JSON Schema that
docs/report.schema.json uses:

    type (a name or a list of names), const, enum, required, properties,
    additionalProperties (false or a schema), items, minItems, uniqueItems,
    minimum, maximum, minLength, maxLength, pattern, $ref (local JSON
    pointers such as #/$defs/name), $defs, allOf, anyOf, oneOf, not,
    if/then/else, dependentRequired

plus the annotations $schema, $id, title, description and $comment, which
assert nothing. It is strict in two ways:

  * A schema keyword it does not know raises SchemaError instead of being
    ignored, so a schema that grows a new constraint cannot be "validated"
    by silently skipping it. Add the keyword here when that happens.
  * JSON types are kept apart as JSON sees them: true is a boolean, not the
    integer 1 (Python's bool is a subclass of int), and 1 does not equal
    true in const, enum or uniqueItems.

    errors = validate(document, schema)   # [] when the document is valid

Each error is a string "PATH: problem", PATH like $.results[2].status.
Only the Python standard library is used.
"""

import json
import re

ANNOTATIONS = frozenset(("$schema", "$id", "title", "description", "$comment"))
KEYWORDS = frozenset((
    "type", "const", "enum", "required", "properties", "additionalProperties", "items",
    "minItems", "uniqueItems", "minimum", "maximum", "minLength", "maxLength", "pattern",
    "$ref", "$defs", "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
    "dependentRequired",
)) | ANNOTATIONS

JSON_TYPES = ("null", "boolean", "object", "array", "number", "integer", "string")


class SchemaError(Exception):
    """The schema itself is broken or uses a keyword this module does not know."""


def json_type(value):
    """The JSON type name of a decoded value ("integer" for whole numbers)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError("not a JSON value: %r" % (value,))


def has_type(value, name):
    if name not in JSON_TYPES:
        raise SchemaError("unknown type %r" % name)
    actual = json_type(value)
    return actual == name or (name == "number" and actual == "integer")


def _canonical(value):
    """A string that is equal for two values exactly when JSON says they are
    equal (1 and 1.0 are equal; 1 and true are not)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, list):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k) + ":" + _canonical(v)
                              for k, v in sorted(value.items())) + "}"
    return json.dumps(value)


def json_equal(a, b):
    return _canonical(a) == _canonical(b)


def _short(value, limit=80):
    text = json.dumps(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


class Validator:
    def __init__(self, schema):
        if not isinstance(schema, (dict, bool)):
            raise SchemaError("a schema is an object or a boolean")
        self.root = schema
        self._regex = {}

    # -- helpers --

    def resolve(self, ref):
        """The schema a local reference ("#/$defs/name") points to."""
        if not ref.startswith("#"):
            raise SchemaError("only local $ref values are supported, not %r" % ref)
        node = self.root
        pointer = ref[1:]
        if pointer and not pointer.startswith("/"):
            raise SchemaError("bad JSON pointer in $ref %r" % ref)
        for part in pointer.split("/")[1:] if pointer else []:
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise SchemaError("$ref %r points to nothing" % ref)
            node = node[part]
        return node

    def regex(self, pattern):
        if pattern not in self._regex:
            try:
                self._regex[pattern] = re.compile(pattern)
            except re.error as err:
                raise SchemaError("bad pattern %r: %s" % (pattern, err)) from None
        return self._regex[pattern]

    # -- validation --

    def errors(self, value, schema, path="$"):
        """Every way value breaks schema, as a list of "PATH: problem" strings."""
        if schema is True:
            return []
        if schema is False:
            return ["%s: no value is allowed here" % path]
        if not isinstance(schema, dict):
            raise SchemaError("%s: a schema is an object or a boolean" % path)
        unknown = set(schema) - KEYWORDS
        if unknown:
            raise SchemaError("unsupported schema keyword(s) %s" % ", ".join(sorted(unknown)))
        out = []
        for keyword in schema:
            check = getattr(self, "_kw_" + keyword.lstrip("$"), None)
            if check is not None:
                out.extend(check(value, schema[keyword], schema, path))
        return out

    def _kw_ref(self, value, ref, schema, path):
        return self.errors(value, self.resolve(ref), path)

    def _kw_type(self, value, types, schema, path):
        names = [types] if isinstance(types, str) else list(types)
        if not any(has_type(value, n) for n in names):
            return ["%s: %s is %s, not %s" % (path, _short(value), json_type(value),
                                             " or ".join(names))]
        return []

    def _kw_const(self, value, const, schema, path):
        if not json_equal(value, const):
            return ["%s: %s is not the constant %s" % (path, _short(value), _short(const))]
        return []

    def _kw_enum(self, value, choices, schema, path):
        if not any(json_equal(value, c) for c in choices):
            return ["%s: %s is not one of %s" % (path, _short(value), _short(choices, 200))]
        return []

    def _kw_required(self, value, names, schema, path):
        if not isinstance(value, dict):
            return []
        return ["%s: required key %r is missing" % (path, n) for n in names if n not in value]

    def _kw_properties(self, value, props, schema, path):
        if not isinstance(value, dict):
            return []
        out = []
        for name, sub in props.items():
            if name in value:
                out.extend(self.errors(value[name], sub, "%s.%s" % (path, name)))
        return out

    def _kw_additionalProperties(self, value, extra, schema, path):
        if not isinstance(value, dict):
            return []
        known = schema.get("properties", {})
        out = []
        for name in value:
            if name in known:
                continue
            if extra is False:
                out.append("%s: key %r is not allowed" % (path, name))
            else:
                out.extend(self.errors(value[name], extra, "%s.%s" % (path, name)))
        return out

    def _kw_items(self, value, sub, schema, path):
        if not isinstance(value, list):
            return []
        out = []
        for i, item in enumerate(value):
            out.extend(self.errors(item, sub, "%s[%d]" % (path, i)))
        return out

    def _kw_minItems(self, value, n, schema, path):
        if isinstance(value, list) and len(value) < n:
            return ["%s: %d items, fewer than %d" % (path, len(value), n)]
        return []

    def _kw_uniqueItems(self, value, unique, schema, path):
        if not unique or not isinstance(value, list):
            return []
        seen = set()
        for item in value:
            key = _canonical(item)
            if key in seen:
                return ["%s: %s occurs twice" % (path, _short(item))]
            seen.add(key)
        return []

    def _kw_minimum(self, value, n, schema, path):
        if json_type(value) in ("integer", "number") and value < n:
            return ["%s: %s is less than %s" % (path, value, n)]
        return []

    def _kw_maximum(self, value, n, schema, path):
        if json_type(value) in ("integer", "number") and value > n:
            return ["%s: %s is more than %s" % (path, value, n)]
        return []

    def _kw_minLength(self, value, n, schema, path):
        if isinstance(value, str) and len(value) < n:
            return ["%s: %s is shorter than %d characters" % (path, _short(value), n)]
        return []

    def _kw_maxLength(self, value, n, schema, path):
        if isinstance(value, str) and len(value) > n:
            return ["%s: %s is longer than %d characters" % (path, _short(value), n)]
        return []

    def _kw_pattern(self, value, pattern, schema, path):
        if isinstance(value, str) and not self.regex(pattern).search(value):
            return ["%s: %s does not match /%s/" % (path, _short(value), pattern)]
        return []

    def _kw_defs(self, value, defs, schema, path):
        return []   # definitions only; reached through $ref

    def _kw_allOf(self, value, subs, schema, path):
        out = []
        for sub in subs:
            out.extend(self.errors(value, sub, path))
        return out

    def _kw_anyOf(self, value, subs, schema, path):
        results = [self.errors(value, sub, path) for sub in subs]
        if all(results):
            return ["%s: matches none of anyOf (%s)" % (path, "; ".join(r[0] for r in results))]
        return []

    def _kw_oneOf(self, value, subs, schema, path):
        results = [self.errors(value, sub, path) for sub in subs]
        matched = sum(1 for r in results if not r)
        if matched != 1:
            return ["%s: matches %d of oneOf, not exactly 1" % (path, matched)]
        return []

    def _kw_not(self, value, sub, schema, path):
        if not self.errors(value, sub, path):
            return ["%s: matches a schema it must not match (%s)" % (path, _short(sub))]
        return []

    def _kw_if(self, value, cond, schema, path):
        if not self.errors(value, cond, path):
            return self.errors(value, schema.get("then", True), path)
        return self.errors(value, schema.get("else", True), path)

    def _kw_then(self, value, sub, schema, path):
        return []   # applied by "if"

    def _kw_else(self, value, sub, schema, path):
        return []   # applied by "if"

    def _kw_dependentRequired(self, value, deps, schema, path):
        if not isinstance(value, dict):
            return []
        out = []
        for name, needed in deps.items():
            if name in value:
                out.extend("%s: key %r needs key %r as well" % (path, name, n)
                           for n in needed if n not in value)
        return out


def validate(document, schema):
    """The list of errors of document against schema ([] when valid)."""
    return Validator(schema).errors(document, schema)


def load_schema(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main(argv):
    """`python3 schema_check.py SCHEMA REPORT...`: prints the errors of each
    report; exit status 1 when any report is invalid."""
    if len(argv) < 3:
        print("usage: schema_check.py SCHEMA.json REPORT.json...")
        return 2
    schema = load_schema(argv[1])
    status = 0
    for path in argv[2:]:
        with open(path, encoding="utf-8") as f:
            errors = validate(json.load(f), schema)
        for error in errors:
            print("%s: %s" % (path, error))
        if errors:
            status = 1
    return status


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv))
