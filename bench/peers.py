"""The 20-rule X Education model written by hand in each peer: canonical leads in, (score, grade) out.

See ../shared/benchmarks/xeducation-20-rules.md. Everything here is outside the timed regions
except the functions each peer's evaluation calls.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

COLUMNS = {
    "lead_origin": "Lead Origin",
    "lead_source": "Lead Source",
    "do_not_email": "Do Not Email",
    "total_visits": "TotalVisits",
    "time_on_site": "Total Time Spent on Website",
    "page_views_per_visit": "Page Views Per Visit",
    "last_activity": "Last Activity",
    "country": "Country",
    "specialization": "Specialization",
    "occupation": "What is your current occupation",
    "tags": "Tags",
    "lead_quality": "Lead Quality",
    "city": "City",
    "lead_profile": "Lead Profile",
    "free_copy": "A free copy of Mastering The Interview",
}
NUMERIC = {"total_visits", "time_on_site", "page_views_per_visit"}


def canonical_leads(path: str | Path) -> list[dict]:
    """The benchmark's canonical leads: empty cell -> None, numbers through float()."""
    leads = []
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            lead = {}
            for key, column in COLUMNS.items():
                cell = row[column]
                if cell == "":
                    lead[key] = None
                elif key in NUMERIC:
                    lead[key] = float(cell)
                else:
                    lead[key] = cell
            lead["converted"] = row["Converted"] == "1"
            leads.append(lead)
    return leads


def grade_of(score) -> str:
    if score >= 60:
        return "hot"
    if score >= 30:
        return "warm"
    return "cold"


# ----------------------------------------------------------------------------- plain Python


def hand_written(lead: dict) -> tuple[int, str]:
    score = 0
    if lead["lead_origin"] == "Lead Add Form":
        score += 10
    source = lead["lead_source"]
    if source == "Reference" or source == "Welingak Website":
        score += 15
    elif source == "Olark Chat":
        score -= 5
    if lead["do_not_email"] == "Yes":
        score -= 20
    visits = lead["total_visits"]
    if visits is not None and visits >= 5:
        score += 5
    seconds = lead["time_on_site"]
    if seconds is not None:
        score += min(int(seconds // 100), 20)
        views = lead["page_views_per_visit"]
        if views is not None and views >= 3 and seconds >= 300:
            score += 5
    activity = lead["last_activity"]
    if activity == "SMS Sent" or activity == "Email Opened":
        score += 10
    elif activity in ("Email Bounced", "Unsubscribed", "Unreachable", "Email Marked Spam"):
        score -= 15
    if lead["country"] == "India":
        score += 5
    if lead["specialization"] in ("Finance Management", "Marketing Management",
                                  "Human Resource Management", "Operations Management"):
        score += 5
    occupation = lead["occupation"]
    if occupation == "Working Professional":
        score += 20
    elif occupation == "Student":
        score -= 10
    tags = lead["tags"]
    if tags is not None:
        if "Interested in other courses" in tags:
            score -= 30
        if tags == "Will revert after reading the email" or tags == "Closed by Horizzon":
            score += 30
        if "Lost to" in tags:
            score -= 25
    quality = lead["lead_quality"]
    if quality == "High in Relevance" or quality == "Might be":
        score += 25
    elif quality == "Worst":
        score -= 20
    city = lead["city"]
    if city == "Mumbai" or city == "Thane & Outskirts":
        score += 5
    if lead["lead_profile"] == "Potential Lead":
        score += 10
    if score >= 60:
        return score, "hot"
    if score >= 30:
        return score, "warm"
    return score, "cold"


# ----------------------------------------------------------------------------- zen-engine

# Missing values never match: every test carries an explicit null guard.
_ZEN_TERMS = [
    "(lead_origin == 'Lead Add Form' ? 10 : 0)",
    "(lead_source != null and lead_source in ['Reference', 'Welingak Website'] ? 15 : 0)",
    "(lead_source == 'Olark Chat' ? -5 : 0)",
    "(do_not_email == 'Yes' ? -20 : 0)",
    "(total_visits != null and total_visits >= 5 ? 5 : 0)",
    "(time_on_site != null ? min([floor(time_on_site / 100), 20]) : 0)",
    "(page_views_per_visit != null and time_on_site != null and page_views_per_visit >= 3"
    " and time_on_site >= 300 ? 5 : 0)",
    "(last_activity != null and last_activity in ['SMS Sent', 'Email Opened'] ? 10 : 0)",
    "(last_activity != null and last_activity in ['Email Bounced', 'Unsubscribed', "
    "'Unreachable', 'Email Marked Spam'] ? -15 : 0)",
    "(country == 'India' ? 5 : 0)",
    "(specialization != null and specialization in ['Finance Management', "
    "'Marketing Management', 'Human Resource Management', 'Operations Management'] ? 5 : 0)",
    "(occupation == 'Working Professional' ? 20 : 0)",
    "(occupation == 'Student' ? -10 : 0)",
    "(tags != null and contains(tags, 'Interested in other courses') ? -30 : 0)",
    "(tags != null and tags in ['Will revert after reading the email', 'Closed by Horizzon']"
    " ? 30 : 0)",
    "(tags != null and contains(tags, 'Lost to') ? -25 : 0)",
    "(lead_quality != null and lead_quality in ['High in Relevance', 'Might be'] ? 25 : 0)",
    "(lead_quality == 'Worst' ? -20 : 0)",
    "(city != null and city in ['Mumbai', 'Thane & Outskirts'] ? 5 : 0)",
    "(lead_profile == 'Potential Lead' ? 10 : 0)",
]
ZEN_SCORE = " + ".join(_ZEN_TERMS)
ZEN_GRADE = "score >= 60 ? 'hot' : (score >= 30 ? 'warm' : 'cold')"


def zen_expression():
    """zen-engine's fastest path: one compiled expression for the score (grade in Python)."""
    import zen

    compiled = zen.compile_expression(ZEN_SCORE)

    def evaluate(lead: dict) -> tuple[int, str]:
        score = int(compiled.evaluate(lead))
        return score, grade_of(score)

    return evaluate


def zen_decision():
    """zen-engine's decision graph (JDM): input -> expression node (score) -> expression node
    (grade) -> output, evaluated through ZenEngine.evaluate."""
    import zen

    graph = {
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "lead", "position": {"x": 0, "y": 0}},
            {"id": "score", "type": "expressionNode", "name": "score",
             "position": {"x": 200, "y": 0},
             "content": {"expressions": [{"id": "s", "key": "score", "value": ZEN_SCORE}],
                         "passThrough": False}},
            {"id": "grade", "type": "expressionNode", "name": "grade",
             "position": {"x": 400, "y": 0},
             "content": {"expressions": [{"id": "s2", "key": "score", "value": "score"},
                                         {"id": "g", "key": "grade", "value": ZEN_GRADE}],
                         "passThrough": False}},
            {"id": "out", "type": "outputNode", "name": "result", "position": {"x": 600, "y": 0}},
        ],
        "edges": [
            {"id": "e1", "sourceId": "in", "targetId": "score", "type": "edge"},
            {"id": "e2", "sourceId": "score", "targetId": "grade", "type": "edge"},
            {"id": "e3", "sourceId": "grade", "targetId": "out", "type": "edge"},
        ],
    }
    content = json.dumps(graph)
    engine = zen.ZenEngine({"loader": lambda key: content})

    def evaluate(lead: dict) -> tuple[int, str]:
        result = engine.evaluate("model", lead)["result"]
        return int(result["score"]), result["grade"]

    return evaluate


# ----------------------------------------------------------------------------- rule-engine

_RE_TERMS = [
    '(lead_origin == "Lead Add Form" ? 10 : 0)',
    '(lead_source in ["Reference", "Welingak Website"] ? 15 : 0)',
    '(lead_source == "Olark Chat" ? -5 : 0)',
    '(do_not_email == "Yes" ? -20 : 0)',
    "(total_visits != null and total_visits >= 5 ? 5 : 0)",
    "(time_on_site != null ? $min([time_on_site // 100, 20]) : 0)",
    "(page_views_per_visit != null and time_on_site != null and page_views_per_visit >= 3"
    " and time_on_site >= 300 ? 5 : 0)",
    '(last_activity in ["SMS Sent", "Email Opened"] ? 10 : 0)',
    '(last_activity in ["Email Bounced", "Unsubscribed", "Unreachable", "Email Marked Spam"]'
    " ? -15 : 0)",
    '(country == "India" ? 5 : 0)',
    '(specialization in ["Finance Management", "Marketing Management", '
    '"Human Resource Management", "Operations Management"] ? 5 : 0)',
    '(occupation == "Working Professional" ? 20 : 0)',
    '(occupation == "Student" ? -10 : 0)',
    '(tags != null and "Interested in other courses" in tags ? -30 : 0)',
    '(tags in ["Will revert after reading the email", "Closed by Horizzon"] ? 30 : 0)',
    '(tags != null and "Lost to" in tags ? -25 : 0)',
    '(lead_quality in ["High in Relevance", "Might be"] ? 25 : 0)',
    '(lead_quality == "Worst" ? -20 : 0)',
    '(city in ["Mumbai", "Thane & Outskirts"] ? 5 : 0)',
    '(lead_profile == "Potential Lead" ? 10 : 0)',
]
RULE_ENGINE_SCORE = " + ".join(_RE_TERMS)


def rule_engine_rule():
    """rule-engine: one rule whose value is the score (grade in Python)."""
    import rule_engine

    rule = rule_engine.Rule(RULE_ENGINE_SCORE)

    def evaluate(lead: dict) -> tuple[int, str]:
        score = int(rule.evaluate(lead))
        return score, grade_of(score)

    return evaluate
