"""Numbers, money, percentages and durations -> the short text a reader sees in plans and reports.

One style everywhere, the one LANGUAGE.md writes its arithmetic in: `5 334`, `1 066.7`, `40 %`,
`960 000 EUR`; durations in business hours as `3 h 05`.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

_SPACE = " "


def _group(digits: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)]
    return _SPACE.join(parts)


def num(value, places: int | None = None) -> str:
    """`1 066.7` with `places=1`; without `places`, whole numbers show no decimals and others two
    (trailing zeros kept off)."""
    if value is None:
        return "–"
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    if places is None:
        if d == d.to_integral_value():
            places = 0
        else:
            text = num(d, 2)
            return text.rstrip("0").rstrip(".") if "." in text else text
    q = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if q < 0 else ""
    whole, _, frac = f"{abs(q):f}".partition(".")
    return f"{sign}{_group(whole)}" + (f".{frac}" if frac else "")


def pct(fraction, places: int | None = None) -> str:
    """`0.4` -> `40 %`, `0.025` -> `2.5 %`; None -> `–`."""
    if fraction is None:
        return "–"
    d = fraction if isinstance(fraction, Decimal) else Decimal(str(fraction))
    return f"{num(d * 100, places)} %"


def money(amount, currency: str | None, places: int | None = None) -> str:
    if amount is None:
        return "–"
    return f"{num(amount, places)} {currency}" if currency else num(amount, places)


def hours(delta: timedelta | None) -> str:
    """A (business) duration as `3 h 05`, `0 h 12`, or `–` when unknown."""
    if delta is None:
        return "–"
    minutes = int(round(delta.total_seconds() / 60))
    sign = "-" if minutes < 0 else ""
    h, m = divmod(abs(minutes), 60)
    return f"{sign}{_group(str(h))} h {m:02d}"


def ratio(part: int, whole: int) -> Decimal | None:
    """part / whole as an exact fraction, None when there is nothing to divide by."""
    return Decimal(part) / Decimal(whole) if whole else None
