"""A small evaluator of IAM policy documents, for checking the documented deploy-role policies.

Matches Action (case-insensitive) and Resource with IAM's wildcards (`*`, `?`: fnmatch's), and
evaluates the condition operators those documents use; any other operator is an error rather
than silently true. An explicit Deny wins over an Allow, as in IAM.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any, Final

type Context = dict[str, list[str]]

STATEMENT_KEYS: Final = {"Sid", "Effect", "Action", "Resource", "Condition", "Principal"}
ACTION: Final = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*]+$")


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _compare(operator: str, value: str, expected: str) -> bool:
    if operator in ("StringEquals", "Bool"):
        return value == expected
    if operator in ("StringLike", "ArnLike"):
        return fnmatch.fnmatchcase(value, expected)
    msg = f"the evaluator does not know the condition operator {operator}: teach it first"
    raise ValueError(msg)


NEGATED: Final = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike"}


def _condition_holds(operator: str, key: str, expected: Any, context: Context) -> bool:
    """IAM's rules: a key the request lacks fails a condition, except under a negated operator
    (which then holds), `Null` (which tests exactly that) and ForAllValues (vacuously true)."""
    values, wanted = context.get(key), as_list(expected)
    if operator == "Null":
        return (values is None) == (str(expected).lower() == "true")
    if operator in NEGATED:
        return values is None or not any(
            _compare(NEGATED[operator], v, w) for v in values for w in wanted
        )
    if operator.startswith("ForAllValues:"):
        base = operator.removeprefix("ForAllValues:")
        return all(any(_compare(base, v, w) for w in wanted) for v in values or [])
    operator = operator.removeprefix("ForAnyValue:")
    return values is not None and any(_compare(operator, v, w) for v in values for w in wanted)


def _applies(statement: dict[str, Any], action: str, resource: str, context: Context) -> bool:
    actions = as_list(statement["Action"])
    if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions):
        return False
    if not any(fnmatch.fnmatchcase(resource, r) for r in as_list(statement.get("Resource", "*"))):
        return False
    return all(
        _condition_holds(operator, key, expected, context)
        for operator, keys in statement.get("Condition", {}).items()
        for key, expected in keys.items()
    )


def allows(
    policy: dict[str, Any], action: str, resource: str = "*", context: Context | None = None
) -> bool:
    """Whether `policy` lets `action` on `resource` with these condition keys (no Deny applies)."""
    applying = [s for s in policy["Statement"] if _applies(s, action, resource, context or {})]
    allowed = any(s["Effect"] == "Allow" for s in applying)
    return allowed and all(s["Effect"] != "Deny" for s in applying)


def without(policy: dict[str, Any], action: str) -> dict[str, Any]:
    """The policy less every Action pattern that covers `action`."""
    statements = []
    for statement in policy["Statement"]:
        kept = [a for a in as_list(statement["Action"]) if not fnmatch.fnmatch(action, a)]
        if kept:
            statements.append({**statement, "Action": kept})
    return {**policy, "Statement": statements}


def _statement_errors(statement: dict[str, Any], kind: str) -> list[str]:
    sid, errors = statement.get("Sid"), []
    actions = as_list(statement.get("Action", []))
    if set(statement) - STATEMENT_KEYS or statement.get("Effect") not in ("Allow", "Deny"):
        errors.append(f"{sid}: unknown keys or Effect")
    if not actions or not all(ACTION.match(a) for a in actions):
        errors.append(f"{sid}: Action is service:Name (a string or a list)")
    if any(a == "*" or a.endswith(":*") for a in actions):
        errors.append(f"{sid}: a whole service or everything is granted")
    wants, refuses = ("Principal", "Resource") if kind == "trust" else ("Resource", "Principal")
    if wants not in statement or refuses in statement:
        errors.append(f"{sid}: a {kind} policy's statement has {wants}, not {refuses}")
    resources = as_list(statement.get("Resource", []))
    errors += [
        f"{sid}: {r} is not an ARN" for r in resources if r != "*" and not r.startswith("arn:")
    ]
    return errors


def shape_errors(document: dict[str, Any], kind: str) -> list[str]:
    """What keeps `document` from being an IAM policy of `kind` (trust or permissions)."""
    errors = []
    if set(document) != {"Version", "Statement"} or document["Version"] != "2012-10-17":
        errors.append("a policy is exactly Version 2012-10-17 and Statement")
    statements = document.get("Statement")
    if not isinstance(statements, list) or not statements:
        return [*errors, "Statement is a non-empty list"]
    sids = [s.get("Sid") or "" for s in statements]
    if len(set(sids)) != len(sids) or not all(re.fullmatch(r"[A-Za-z0-9]+", s) for s in sids):
        errors.append(f"Sids are unique and alphanumeric: {sids}")
    return errors + [e for s in statements for e in _statement_errors(s, kind)]
