"""Every diagnostic code -> its severity and a short title (docs/diagnostics.md explains each)."""

from __future__ import annotations

# code: (severity, title). The codes are stable: a code is never reused for another problem.
CODES: dict[str, tuple[str, str]] = {
    # LR0xx: reading files
    "LR001": ("error", "syntax error"),
    "LR002": ("error", "a character that cannot be used"),
    "LR003": ("error", "nested too deeply"),
    "LR004": ("error", "file missing or unreadable"),
    "LR005": ("error", "file not in UTF-8"),
    "LR006": ("error", "files include each other"),
    "LR007": ("error", "included file missing"),
    "LR008": ("error", "line too long"),
    # LR1xx: names and definitions
    "LR101": ("error", "unknown name"),
    "LR102": ("error", "defined twice"),
    "LR103": ("error", "unknown event"),
    "LR104": ("error", "unknown list, or not a list"),
    "LR105": ("error", "unknown type"),
    "LR106": ("error", "reserved name"),
    "LR107": ("error", "not a day of the week"),
    "LR108": ("error", "wrong opening hours"),
    "LR109": ("error", "money without the agreement's currency"),
    "LR110": ("error", "no lead block"),
    "LR111": ("error", "several key fields"),
    "LR112": ("warning", "name not in lower snake case"),
    "LR113": ("error", "unsupported locale"),
    "LR114": ("error", "unknown time zone"),
    "LR115": ("error", "agreement ends before it starts"),
    "LR116": ("error", "wrong party"),
    "LR117": ("error", "not a currency code"),
    "LR118": ("error", "wrong `require K of N`"),
    # LR2xx: types
    "LR201": ("error", "values that cannot be compared"),
    "LR202": ("error", "money in another currency, or without one"),
    "LR203": ("error", "not one of the values of the field"),
    "LR204": ("error", "event expected"),
    "LR205": ("error", "arithmetic on something that is not a number"),
    "LR206": ("error", "`between` with the bounds reversed"),
    "LR207": ("error", "pattern rejected"),
    "LR208": ("error", "text test on something that is not a text"),
    "LR209": ("error", "not a condition"),
    "LR210": ("error", "not a stage"),
    "LR211": ("error", "not a label of the grade"),
    "LR212": ("error", "not a route"),
    "LR213": ("error", "empty duration or step"),
    "LR214": ("error", "no order between these values"),
    "LR215": ("error", "division by zero"),
    "LR216": ("error", "impossible decay rate"),
    # LR3xx: grades
    "LR301": ("error", "bands out of order"),
    "LR302": ("error", "row never reached"),
    "LR303": ("warning", "bands overlap"),
    "LR304": ("error", "no `otherwise` row"),
    "LR305": ("error", "rows after `otherwise`"),
    "LR306": ("warning", "quantiles without cut points used for one lead"),
    "LR307": ("error", "band without a graded value"),
    "LR308": ("error", "wrong cut points"),
    # LR4xx: reachability
    "LR401": ("warning", "never true"),
    "LR402": ("warning", "always true"),
    "LR403": ("error", "min above max"),
    # LR5xx: lifecycle and routing
    "LR501": ("error", "definitions depend on each other"),
    "LR502": ("error", "a stage or route decides itself"),
    "LR503": ("error", "`entered at` names no date field"),
    "LR504": ("error", "`entered at` without a stage"),
    "LR505": ("error", "routes without one last `otherwise`"),
    # LR6xx: service level agreement and channels
    "LR601": ("error", "conversion step on an unknown stage"),
    "LR602": ("error", "rate, share or commitment out of range"),
    "LR603": ("error", "conversion steps that do not reach customer"),
    "LR604": ("error", "revenue target or average deal missing"),
    "LR605": ("warning", "commitment below what the target needs"),
    "LR606": ("error", "SLA names an unknown stage"),
    "LR607": ("error", "unknown calendar"),
    "LR608": ("error", "unknown event in `touches`"),
    "LR609": ("error", "SLA of an unknown side"),
    "LR610": ("error", "channels by a field that is not an enum"),
    "LR611": ("error", "channel that is not a value of the field"),
    "LR612": ("error", "commitment on the wrong side"),
    "LR613": ("warning", "business time without a calendar"),
    "LR614": ("warning", "commitment the conversion steps do not cover"),
    # LR7xx: definitions nothing uses
    "LR701": ("warning", "event never used"),
    "LR702": ("warning", "list never used"),
    "LR703": ("warning", "segment never used"),
    "LR704": ("warning", "qualification never used"),
    "LR705": ("warning", "calendar never used"),
    "LR706": ("warning", "score without rules"),
    # LR8xx: tests
    "LR801": ("error", "test without `as of`"),
    "LR802": ("error", "test names something unknown"),
    "LR803": ("error", "test value of the wrong type"),
    "LR804": ("error", "no rule has this label"),
    "LR805": ("error", "given twice in a test"),
    "LR806": ("warning", "test that expects nothing"),
}


def title(code: str) -> str:
    return CODES.get(code, ("error", code))[1]
