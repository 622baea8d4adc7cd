"""A route's inputs (path parameters, query parameters, JSON body) decoded and validated by msgspec.

Each input is a msgspec type: path and query parameters a Struct whose fields are the parameters,
the body any type msgspec decodes. A violation is a 422 in FastAPI's shape (`type`, `loc`, `msg`),
one problem per input that fails (msgspec stops at an input's first error), every message cut to
MAX_TEXT characters: msgspec's messages may quote what was sent (an unknown field's name, a
value), and a request can send megabytes.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from dashboard.web.errors import InvalidInputError
from dashboard.web.events import Request

MAX_TEXT = 200
JSON_TYPES = ("application/json", "+json")
END_OF_TEXT = r"\Z"
# msgspec's messages: "<what> - at `$.field[0]`" where the problem is below the top level, and
# patterns quoted with their backslashes doubled.
_AT = re.compile(r"^(?P<message>.*) - at `\$(?P<path>.*)`$", re.DOTALL)
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_FIELD = re.compile(r"^Object (?P<kind>missing required|contains unknown) field `(?P<name>.*)`$")
_KINDS = {"missing required": "missing", "contains unknown": "extra_forbidden"}
_QUOTED_END_OF_TEXT = re.compile(re.escape(END_OF_TEXT.replace("\\", "\\\\")) + "'$")


def whole(pattern: str, **meta: Any) -> msgspec.Meta:
    """Constraints for a string that must match `pattern` (anchored with ^ and $) as a whole.

    msgspec searches with Python's `re`, where `$` also matches before a final newline ("AAPL\\n"
    would pass); JSON Schema's `$` does not. Validation uses `\\Z`; the document and the 422
    messages show `$` again (`as_written`).
    """
    if not (pattern.startswith("^") and pattern.endswith("$")):
        raise ValueError(f"whole() takes an anchored pattern (^...$), not {pattern!r}")
    return msgspec.Meta(pattern=pattern.removesuffix("$") + END_OF_TEXT, **meta)


def as_written(pattern: str) -> str:
    """A pattern of `whole` as JSON Schema writes it."""
    return pattern.removesuffix(END_OF_TEXT) + "$" if pattern.endswith(END_OF_TEXT) else pattern


class FieldError(ValueError):
    """Raised by a Struct's __post_init__ for a rule on one field that the schema cannot state;
    its 422 names the field (msgspec reports __post_init__'s errors without a location)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parameters(where: str, values: dict[str, str], schema: type[msgspec.Struct]) -> Any:
    """`values` (strings, as sent) as an instance of `schema`, strings converted to its types."""
    try:
        return msgspec.convert(values, schema, strict=False)
    except msgspec.ValidationError as error:
        raise InvalidInputError([problem(where, error)]) from error


def body(request: Request, schema: Any) -> Any:
    """The request's JSON body decoded as `schema`."""
    content_type = (request.header("content-type") or "application/json").lower()
    if not any(marker in content_type for marker in JSON_TYPES):
        raise _body_problem(
            "json_invalid", "the body must be JSON (Content-Type: application/json)"
        )
    if not request.body.strip():
        raise _body_problem("missing", "a JSON body is required")
    try:
        return msgspec.json.decode(request.body, type=schema)
    except msgspec.ValidationError as error:
        raise InvalidInputError([problem("body", error)]) from error
    except msgspec.DecodeError as error:
        raise _body_problem("json_invalid", str(error)) from error


def problem(where: str, error: msgspec.ValidationError) -> dict[str, Any]:
    """One 422 problem for msgspec's error on the input `where` (path, query, body)."""
    message = str(error)
    loc: list[str | int] = [where]
    at = _AT.match(message)
    if at is not None:
        message = at["message"]
        loc += [int(index) if index else name for name, index in _STEP.findall(at["path"])]
    if isinstance(error.__cause__, FieldError):
        loc.append(error.__cause__.field)
    kind = "value_error"
    about_field = _FIELD.match(message)
    if about_field is not None:
        kind = _KINDS[about_field["kind"]]
        loc.append(about_field["name"])
    return {
        "type": kind,
        "loc": [printable(part) if isinstance(part, str) else part for part in loc],
        "msg": printable(_QUOTED_END_OF_TEXT.sub("$'", message)),
    }


def printable(text: str) -> str:
    """`text` cut to MAX_TEXT characters, unpaired surrogates escaped (so it encodes)."""
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _body_problem(kind: str, message: str) -> InvalidInputError:
    return InvalidInputError([{"type": kind, "loc": ["body"], "msg": printable(message)}])
