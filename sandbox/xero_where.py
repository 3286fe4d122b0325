"""The part of Xero's `where` filter language that Dunwell uses (FACTS.md "accounting API").

Clauses joined by AND (or &&), alternatives by OR (or ||), no parentheses:
`Type=="ACCREC" AND Status=="AUTHORISED" AND AmountDue>0 AND DueDate<DateTime(2026,11,21)`.
Field names are matched case-insensitively, like Xero's. Anything else is a ValidationException.
"""

import operator
import re
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation

OPERATORS = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
_CLAUSE = re.compile(
    r"""^\s*(?P<field>[A-Za-z][\w.]*)\s*(?P<op>==|!=|>=|<=|>|<)\s*(?P<value>
        "[^"]*" | DateTime\(\s*\d{4}\s*,\s*\d{1,2}\s*,\s*\d{1,2}\s*\) | Guid\("[^"]*"\)
        | -?\d+(?:\.\d+)? | true | false )\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_SPLIT_OR = re.compile(r"\s+OR\s+|\s*\|\|\s*", re.IGNORECASE)
_SPLIT_AND = re.compile(r"\s+AND\s+|\s*&&\s*", re.IGNORECASE)


class WhereError(ValueError):
    pass


def _value(text: str):
    if text.startswith('"'):
        return text[1:-1]
    lowered = text.lower()
    if lowered.startswith("datetime("):
        year, month, day = (int(part) for part in text[9:-1].split(","))
        return date(year, month, day)
    if lowered.startswith("guid("):
        try:
            return uuid.UUID(text[6:-2])
        except ValueError:
            raise WhereError(f"{text} is not a Guid") from None
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return Decimal(text)
    except InvalidOperation:
        raise WhereError(f"cannot read {text}") from None


def where_parse(where: str, fields: dict) -> list[list[tuple]]:
    """Parse into OR-groups of AND-clauses (field getter, operator, value)."""
    if "(" in where.replace("DateTime(", "").replace("Guid(", ""):
        raise WhereError("parentheses are not supported by the sandbox")
    known = {name.lower(): getter for name, getter in fields.items()}
    groups = []
    for alternative in _SPLIT_OR.split(where.strip()):
        clauses = []
        for text in _SPLIT_AND.split(alternative):
            match = _CLAUSE.match(text)
            if not match:
                raise WhereError(f"cannot parse the clause {text!r}")
            getter = known.get(match["field"].lower())
            if getter is None:
                raise WhereError(f"no property or field '{match['field']}' exists")
            clauses.append((getter, OPERATORS[match["op"]], _value(match["value"])))
        groups.append(clauses)
    return groups


def where_matches(groups: list[list[tuple]], row) -> bool:
    for clauses in groups:
        if all(_compare(getter(row), op, value) for getter, op, value in clauses):
            return True
    return False


def _compare(actual, op, value) -> bool:
    if isinstance(value, str) and isinstance(actual, str):
        # Xero compares text case-insensitively.
        return op(actual.lower(), value.lower())
    try:
        return op(actual, value)
    except TypeError:
        return False
