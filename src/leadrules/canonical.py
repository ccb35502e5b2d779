"""Checked ruleset -> canonical JSON and its SHA-256 fingerprint.

The canonical form keeps what the rules mean and drops how they are written: positions,
comments, layout and the split into included files are gone; numbers are normalised
(`1_000`, `1000` and `1000.0` are the same number). Any change of meaning changes the digest.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal

from leadrules import ast

FORMAT = "leadrules-canonical/1"


def to_data(node):
    """A JSON-ready value for an ast node (or a value inside one)."""
    if isinstance(node, Decimal):
        text = format(node.normalize(), "f")
        return text if text not in ("-0",) else "0"
    if isinstance(node, (datetime, date)):
        return node.isoformat()
    if isinstance(node, tuple):
        return [to_data(v) for v in node]
    if hasattr(node, "__dataclass_fields__"):
        data = {"node": type(node).__name__}
        for name in node.__dataclass_fields__:
            if name == "span":
                continue
            value = getattr(node, name)
            if value is None or value == ():
                continue
            data[name] = to_data(value)
        return data
    return node


def canonical(rs) -> dict:
    """The meaning of a ruleset as plain data; includes are flattened, in the order met."""
    items = [
        to_data(item)
        for module in rs.modules
        for item in module.items
        if not isinstance(item, ast.Include)
    ]
    return {"format": FORMAT, "items": items}


def canonical_json(rs) -> str:
    return json.dumps(canonical(rs), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def fingerprint(rs) -> str:
    """`sha256:` followed by the hex digest of the canonical JSON."""
    digest = hashlib.sha256(canonical_json(rs).encode("utf-8")).hexdigest()
    return f"sha256:{digest}"
