"""Every command used as a new user would: rule files written by outsiders from LANGUAGE.md alone,
and the usual mistakes (typos, wrong files, wrong dates, missing folders), each ending in a plain
message, the right exit code, no traceback and no half-written file."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadrules.check import check
from leadrules.cli import main

HERE = Path(__file__).parent
OUTSIDER = HERE / "fixtures" / "outsider"
RULES = sorted(OUTSIDER.glob("*.leadrules"))
BRIGHTWAVE = OUTSIDER / "brightwave.leadrules"
AS_OF = "2027-06-15T12:00"


def run(*args) -> object:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def variant(tmp_path: Path, old: str, new: str, source: Path = BRIGHTWAVE) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text, old
    target = tmp_path / "rules.leadrules"
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


# ----------------------------------------------------------------------------- outsiders' files


@pytest.mark.parametrize("rules", RULES, ids=lambda p: p.stem)
def test_outsider_rules_check_clean_and_their_tests_pass(rules: Path) -> None:
    rs = check(rules)
    assert rs.diagnostics == [], [d.message for d in rs.diagnostics]
    assert rs.tests, "each outsider file carries test blocks"
    result = run("check", rules)  # runs the test blocks too
    assert result.exit_code == 0, result.output
    result = run("test", rules)
    assert result.exit_code == 0 and "FAILED" not in result.output, result.output


@pytest.mark.parametrize("rules", RULES, ids=lambda p: p.stem)
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_outsider_rules_render_in_both_languages(rules: Path, lang: str, tmp_path: Path) -> None:
    for fmt in ("html", "md"):
        out = tmp_path / f"agreement.{fmt}"
        result = run("render", rules, "--lang", lang, "--date", "2027-03-01", "-o", out)
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8")
        assert check(rules).fingerprint in text
        assert run("verify", out, rules).exit_code == 0


def test_outsider_rules_render_pdf(tmp_path: Path) -> None:
    pytest.importorskip("weasyprint")
    out = tmp_path / "pact.pdf"
    result = run("render", OUTSIDER / "lumen.leadrules", "-o", out, "--date", "2027-03-01")
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")


def test_outsider_rules_plan_and_compile(tmp_path: Path) -> None:
    result = run("plan", BRIGHTWAVE)
    assert result.exit_code == 0, result.output
    # 3 000 000 × 50 % / 30 000 = 50 customers; 50 / 2.5 % = 2 000 leads, 167 a month.
    assert "Lead needed = 50 / 2.5% = 2,000" in result.output
    assert "  2027-04     167         5" in result.output
    lumen = run("plan", OUTSIDER / "lumen.leadrules", "--format", "json")
    data = json.loads(lumen.output)
    needed = {s["stage"]: s["per_year"] for s in data["stages"]}
    # 1 200 000 × 60 % / 8 000 = 90 customers; MQL 90 / (40 % × 50 % × 30 %) = 1 500.
    assert needed["mql"] == 1500 and needed["lead"] == 6000
    for rules in RULES:
        out = tmp_path / f"{rules.stem}.py"
        assert run("compile", rules, "-o", out).exit_code == 0
        assert "def evaluate(" in out.read_text(encoding="utf-8")


def test_outsider_scores_match_their_test_blocks(tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    result = run("score", BRIGHTWAVE, OUTSIDER / "brightwave-leads.csv", "--events",
                 OUTSIDER / "brightwave-events.csv", "--as-of", AS_OF, "-o", out)
    assert result.exit_code == 0, result.output
    got = {r["Lead Ref"]: r for r in rows(out)}
    # The same leads and events as the test blocks of the file.
    assert (got["BW-1"]["fit"], got["BW-1"]["intent"], got["BW-1"]["priority_score"]) == \
        ("90.00", "64.76", "81.59")
    assert (got["BW-1"]["urgency"], got["BW-1"]["stage"]) == ("now", "sql")
    assert (got["BW-2"]["fit"], got["BW-2"]["stage"]) == ("-60.00", "disqualified")
    assert (got["BW-3"]["intent"], got["BW-3"]["route"]) == ("60.00", "key_accounts")


def test_outsider_french_export_with_json_events(tmp_path: Path) -> None:
    out = tmp_path / "scores.jsonl"
    result = run("score", OUTSIDER / "lumen.leadrules", OUTSIDER / "lumen-contacts.csv",
                 "--events", OUTSIDER / "lumen-events.jsonl", "--as-of", "2027-04-15T10:00",
                 "-o", out)
    assert result.exit_code == 1  # one row has an impossible date and a "peut-être"
    got = {r["ID contact"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert (got["L-1"]["adequation"], Decimal(str(got["L-1"]["interet"]))) == (80, Decimal("61.5"))
    assert got["L-1"]["stage"] == "sql" and got["L-2"]["stage"] == "disqualified"
    assert "'2027-02-30' is not a date: 2027-02 has no day 30" in result.output
    assert "Events: 6 read, 1 for leads not in the file." in result.output


def test_outsider_customers_with_quantiles(tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    result = run("score", OUTSIDER / "verdi.leadrules", OUTSIDER / "verdi-customers.csv",
                 "--events", OUTSIDER / "verdi-events.csv", "--as-of", "2027-03-15T12:00",
                 "-o", out)
    assert result.exit_code == 1  # one purchase in EUR
    got = {r["Customer #"]: r for r in rows(out)}
    assert (got["1001"]["loyalty"], got["1001"]["health"], got["1001"]["frequency"]) == \
        ("31.50", "25.75", "q3")
    assert (got["1003"]["care_tier"], got["1003"]["stage"]) == ("vip", "sql")
    assert "Cut points of monetary (quintiles of these leads)" in result.output
    assert "'12 EUR' is in EUR, but this agreement counts money in USD" in result.output


# ----------------------------------------------------------------------------- typos in rules


def test_entered_at_may_stand_on_the_stage_line(tmp_path) -> None:
    rs = check(variant(tmp_path, "when ready\n                entered at qualified_on",
                       "when ready entered at qualified_on"))
    assert rs.diagnostics == []
    assert "qualified_on" in [s.entered_at.name for s in rs.stages if s.entered_at]


@pytest.mark.parametrize(("old", "new", "message", "hint"), [
    ("fleet_size >= 200 or", "fleet_size => 200 or", "'=>' is not a comparison", "write '>='"),
    ("fleet_size >= 200 or", "fleet_size ≥ 200 or", "the sign '≥' is not a comparison",
     "write '>='"),
    ('"Not a buyer" any {', '"Not a buyer" anny {', "'anny' is not a word the language knows",
     "did you mean 'any'?"),
    ("score intent", "scor intent", "the name 'scor' does not start a definition",
     "did you mean 'score'?"),
    ("stages {", "stage {", "the name 'stage' does not start a definition",
     "did you mean 'stages'?"),
])
def test_typos_get_one_plain_message_and_no_cascade(tmp_path, old, new, message, hint) -> None:
    rules = variant(tmp_path, old, new)
    rs = check(rules)
    assert [d.code for d in rs.diagnostics] in (["LR001"], ["LR002"]), \
        [d.message for d in rs.diagnostics]
    assert message in rs.diagnostics[0].message
    assert hint in rs.diagnostics[0].hint


def test_unknown_type_is_reported_once_not_at_every_use(tmp_path: Path) -> None:
    rules = variant(tmp_path, "fleet_size    int ", "fleet_size    integer ")
    found = [(d.code, d.hint) for d in check(rules).diagnostics]
    assert found == [("LR105", "did you mean 'int'?")]


def test_windows_files_check_like_unix_ones(tmp_path: Path) -> None:
    text = BRIGHTWAVE.read_text(encoding="utf-8")
    for name, data in (("crlf", text.replace("\n", "\r\n").encode()),
                       ("bom", b"\xef\xbb\xbf" + text.encode()),
                       ("tabs", text.replace("    +40 when", "\t+40 when").encode())):
        path = tmp_path / f"{name}.leadrules"
        path.write_bytes(data)
        assert run("check", path).exit_code == 0, name


def test_fmt_accepts_a_byte_order_mark_and_drops_it(tmp_path: Path) -> None:
    path = tmp_path / "rules.leadrules"
    path.write_bytes(b"\xef\xbb\xbf" + b"event demo_request \"Demo\"\n")
    assert run("fmt", "--check", path).exit_code == 1  # the mark is not the canonical layout
    assert run("fmt", path).exit_code == 0
    assert path.read_bytes() == b"event demo_request \"Demo\"\n"
    assert run("fmt", "--check", path).exit_code == 0


# ----------------------------------------------------------------------------- wrong rule files


@pytest.mark.parametrize("command", [
    ["test"], ["compile"], ["plan"], ["render"], ["explain", "{lead}"], ["score", "{leads}"],
    ["verify", "{doc}"],
])
def test_a_missing_or_wrong_rule_file_is_a_usage_error(tmp_path: Path, command) -> None:
    lead = tmp_path / "lead.json"
    lead.write_text('{"ref": "X"}', encoding="utf-8")
    doc = tmp_path / "doc.md"
    doc.write_text("# agreement\n", encoding="utf-8")
    extra = [a.format(lead=lead, leads=OUTSIDER / "brightwave-leads.csv", doc=doc)
             for a in command[1:]]

    def invoke(rules: Path):
        args = [command[0], *extra, rules] if command[0] == "verify" else \
            [command[0], rules, *extra]
        return run(*args)

    missing = invoke(tmp_path / "nothere.leadrules")
    assert missing.exit_code == 2
    assert "does not exist" in missing.output and "fix the" not in missing.output
    folder = invoke(tmp_path)
    # compile leaves it to click, which says "directory"
    assert folder.exit_code == 2 and ("folder" in folder.output or "directory" in folder.output)
    empty = tmp_path / "empty.leadrules"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    result = invoke(empty)
    assert result.exit_code == 1 and "defines nothing" in result.output


def test_rules_with_errors_say_how_many_in_words(tmp_path: Path) -> None:
    one = variant(tmp_path, "fleet_size >= 200 or", "fleet_size = 200 or")
    result = run("plan", one)
    assert result.exit_code == 1 and "fix the error above first" in result.output
    text = one.read_text(encoding="utf-8").replace("+25 when seniority", "+25 when senority")
    one.write_text(text, encoding="utf-8")
    assert "fix the 2 errors above first" in run("plan", one).output


# ----------------------------------------------------------------------------- score


@pytest.fixture
def leads() -> Path:
    return OUTSIDER / "brightwave-leads.csv"


def test_score_folders_and_missing_folders_are_usage_errors(tmp_path: Path, leads) -> None:
    result = run("score", BRIGHTWAVE, tmp_path)
    assert result.exit_code == 2 and "is a folder: name the leads file itself" in result.output
    result = run("score", BRIGHTWAVE, leads, "--events", tmp_path)
    assert result.exit_code == 2 and "name the events file itself" in result.output
    result = run("score", BRIGHTWAVE, leads, "-o", tmp_path / "nofolder" / "x.csv")
    assert result.exit_code == 2 and "the folder" in result.output
    result = run("score", BRIGHTWAVE, leads, "-o", tmp_path / "x.csv",
                 "--errors", tmp_path / "nofolder" / "e.csv")
    assert result.exit_code == 2 and "--errors" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("as_of", "said"), [
    ("2027-02-30", "is not a date: 2027-02 has no day 30"),
    ("2027-13-01", "there is no month 13"),
    ("2027-02-30T10:00", "2027-02 has no day 30"),
    ("next tuesday", "is not a date and time"),
])
def test_score_wrong_as_of(as_of: str, said: str, leads) -> None:
    result = run("score", BRIGHTWAVE, leads, "--as-of", as_of)
    assert result.exit_code == 2 and said in result.output


def test_explain_wrong_as_of_does_not_talk_of_month_first_dates(tmp_path: Path) -> None:
    lead = tmp_path / "lead.json"
    lead.write_text('{"ref": "X"}', encoding="utf-8")
    result = run("explain", BRIGHTWAVE, lead, "--as-of", "2027-02-30")
    assert result.exit_code == 2
    assert "2027-02 has no day 30" in result.output and "MM/DD" not in result.output


def test_excel_separator_line(tmp_path: Path, leads) -> None:
    text = leads.read_text(encoding="utf-8").replace(",", ";")
    path = tmp_path / "excel.csv"
    path.write_text("sep=;\n" + text.replace("BW-2;jo@gmail.com;3", "BW-2;jo@gmail.com;three"),
                    encoding="utf-8")
    out = tmp_path / "scores.csv"
    result = run("score", BRIGHTWAVE, path, "-o", out, "--as-of", AS_OF)
    assert result.exit_code == 1
    assert len(rows(out)) == 4
    # Rows are counted as in a spreadsheet: the separator line is row 1, the header row 2.
    assert "row 4, column 'Trucks': 'three' is not a whole number" in result.output


def test_malformed_row_and_missing_key_messages(tmp_path: Path, leads) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(leads.read_text(encoding="utf-8") + 'BW-9,"open quote,3\n', encoding="utf-8")
    out = tmp_path / "scores.csv"
    result = run("score", BRIGHTWAVE, bad, "-o", out, "--on-error", "skip", "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "row 6 has 2 cells but the header has 12 columns" in result.output
    assert "column ''" not in result.output
    nokey = tmp_path / "nokey.csv"
    nokey.write_text("Lead Rf,Trucks\nA,3\n", encoding="utf-8")
    result = run("score", BRIGHTWAVE, nokey)
    assert result.exit_code == 1
    assert "(did you mean 'Lead Rf'?). Its columns are" in result.output


def test_not_utf8_export_says_the_line(tmp_path: Path, leads) -> None:
    lines = leads.read_text(encoding="utf-8").splitlines()
    copies = [lines[1].replace("BW-1,", f"BW-1-{i},", 1) for i in range(3000)]
    text = "\n".join([lines[0], *copies, lines[2].replace("jo@", "jö@")]) + "\n"
    path = tmp_path / "old.csv"
    path.write_bytes(text.encode("latin-1"))
    out = tmp_path / "scores.csv"
    result = run("score", BRIGHTWAVE, path, "-o", out, "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "is not utf-8 text (line 3 002, character 7, cannot be read)" in result.output
    assert "--encoding latin-1" in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == [path]
    assert run("score", BRIGHTWAVE, path, "-o", out, "--as-of", AS_OF, "--encoding",
               "latin-1").exit_code == 0


def test_misspelt_event_kinds_get_a_suggestion(tmp_path: Path, leads) -> None:
    events = tmp_path / "events.csv"
    events.write_text("Lead Ref,type,at\nBW-1,quote_requests,2027-06-15T12:00\n"
                      "BW-1,brochure_mailed,2027-06-15T12:00\n", encoding="utf-8")
    result = run("score", BRIGHTWAVE, leads, "--events", events, "--as-of", AS_OF,
                 "-o", tmp_path / "s.csv")
    assert "quote_requests (1; did you mean quote_request?)" in result.output
    assert "brochure_mailed (1)" in result.output


# ----------------------------------------------------------------------------- render, explain


def test_render_refuses_names_it_cannot_honour(tmp_path: Path) -> None:
    result = run("render", BRIGHTWAVE, "-o", tmp_path / "pact.docx")
    assert result.exit_code == 2 and "end it with .html, .pdf or .md" in result.output
    result = run("render", BRIGHTWAVE, "--format", "pdf", "-o", tmp_path / "pact.html")
    assert result.exit_code == 2 and "names an HTML file" in result.output
    result = run("render", BRIGHTWAVE, "-o", tmp_path / "nofolder" / "pact.pdf")
    assert result.exit_code == 2 and "the folder" in result.output
    assert list(tmp_path.iterdir()) == []
    result = run("render", BRIGHTWAVE, "--format", "md", "-o", tmp_path / "pact.txt")
    assert result.exit_code == 0 and (tmp_path / "pact.txt").exists()


def test_explain_wrong_inputs(tmp_path: Path, leads) -> None:
    lead = tmp_path / "lead.json"
    lead.write_text(json.dumps({
        "ref": "X", "email": "a@b.com", "fleet_size": "many",
        "events": [{"type": "qoute_request", "at": "2027-06-10"}]}), encoding="utf-8")
    result = run("explain", BRIGHTWAVE, lead, "--as-of", AS_OF, "--why-not", "sqll")
    assert result.exit_code == 2
    assert "--why-not sqll" in result.output and "did you mean 'sql'?" in result.output
    assert "Fit:" not in result.output  # no breakdown nobody asked for
    result = run("explain", BRIGHTWAVE, lead, "--as-of", AS_OF)
    assert result.exit_code == 1 and "Fit:" in result.output
    assert "'fleet_size': 'many' is not a whole number (taken as missing)" in result.output
    assert "no event 'qoute_request' (1 left out)\n" in result.output
    result = run("explain", BRIGHTWAVE, leads)
    assert result.exit_code == 1 and "leadrules score" in result.output


def test_verify_names_a_folder_a_folder(tmp_path: Path) -> None:
    result = run("verify", tmp_path, BRIGHTWAVE)
    assert result.exit_code == 2 and "is a folder" in result.output


def test_plan_markdown_aligns_text_left_and_figures_right() -> None:
    result = run("plan", BRIGHTWAVE, "--format", "md")
    assert "| Stage | Label | Becomes a customer | Worth |\n| --- | --- | ---: | ---: |" \
        in result.output


def test_quantile_grades_say_what_q1_to_q5_mean() -> None:
    result = run("render", OUTSIDER / "verdi.leadrules", "--format", "md", "--date", "2027-01-01")
    assert result.exit_code == 0
    text = result.output
    assert "The groups run from *q1*, for the lowest values, to *q5*, for the highest." in text
    # Frozen cut points 1, 2, 4, 8: the range of each group.
    assert "| *q1* | 1 or less |\n| *q2* | more than 1 and up to 2 |" in text
    assert "| *q5* | more than 8 |" in text
    acme = run("render", HERE.parent / "rules" / "acme.leadrules", "--format", "md", "--lang",
               "en", "--date", "2027-01-01").output
    assert "| *q2* | more than €2,400 and up to €6,000 |" in acme  # a sum of amounts is money


def test_score_unknown_encoding_is_a_usage_error(leads) -> None:
    result = run("score", BRIGHTWAVE, leads, "--encoding", "nonsense")
    assert result.exit_code == 2 and "--encoding nonsense: not a text encoding" in result.output


def test_sign_folders_and_missing_output_folder(tmp_path: Path) -> None:
    pdf = tmp_path / "pact.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    result = run("sign", tmp_path, "--field", "marketing", "--key", pdf, "--cert", pdf)
    assert result.exit_code == 2 and "is a folder" in result.output
    result = run("sign", pdf, "--field", "marketing", "--key", pdf, "--cert", pdf,
                 "-o", tmp_path / "nofolder" / "signed.pdf")
    assert result.exit_code == 2 and "does not exist" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pact.pdf"]


def test_blank_lines_above_the_header_and_duplicate_columns(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("\n\nLead Ref,Trucks\nA,x\n", encoding="utf-8")
    out = tmp_path / "scores.csv"
    result = run("score", BRIGHTWAVE, path, "-o", out, "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "row 4, column 'Trucks': 'x' is not a whole number" in result.output
    path.write_text("Lead Ref,Trucks,Trucks\nA,3,400\n", encoding="utf-8")
    result = run("score", BRIGHTWAVE, path, "-o", out, "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "has 2 columns named 'Trucks' (columns 2 and 3)" in result.output


def test_a_misspelt_command_gets_a_suggestion() -> None:
    result = run("scor", BRIGHTWAVE)
    assert result.exit_code == 2 and "Did you mean 'score'?" in result.output


def test_a_rule_file_not_in_utf8_points_at_the_character(tmp_path: Path) -> None:
    path = tmp_path / "latin1.leadrules"
    path.write_bytes('segment icp "Profil client idéal" {\n}\n'.encode("latin-1"))
    [d] = check(path).diagnostics
    assert (d.code, d.span.line, d.span.col) == ("LR005", 1, 30)
    assert "(line 1, character 30 cannot be read)" in d.message


def test_fmt_of_a_file_not_in_utf8_names_line_and_character(tmp_path: Path) -> None:
    path = tmp_path / "latin1.leadrules"
    path.write_bytes('# note\nsegment icp "Profil client idéal" {\n}\n'.encode("latin-1"))
    result = run("fmt", path)
    assert result.exit_code == 1
    assert "line 2, character 30 is not UTF-8 text" in result.output


def test_freeze_cuts_writes_the_cut_points_into_the_rules(tmp_path: Path) -> None:
    # LANGUAGE.md §13: per-lead evaluation needs the cut points frozen into the file, and
    # leadrules can write them there.
    text = (OUTSIDER / "verdi.leadrules").read_text(encoding="utf-8")
    text = text.replace("quintiles at 1, 2, 4, 8", "quintiles").replace(
        "    expect frequency == q3\n", "")
    rules = tmp_path / "verdi.leadrules"
    rules.write_text(text, encoding="utf-8")
    args = ["score", rules, OUTSIDER / "verdi-customers.csv", "--events",
            OUTSIDER / "verdi-events.csv", "--as-of", "2027-03-15T12:00", "-o",
            tmp_path / "scores.csv"]
    result = run(*args)
    # Counts tie (0, 1, 1, 3): those cannot be written as they are, and the summary says so
    # instead of suggesting cut points the checker would refuse.
    assert "Cut points of frequency (quintiles of these leads): 0, 1, 1, 3. Some are equal" \
        in result.output
    assert "`quintiles at 0, 19.99, 25, 120`, or score again with --freeze-cuts" in result.output
    assert rules.read_text(encoding="utf-8") == text  # nothing written without the option
    result = run(*args, "--freeze-cuts")
    assert "the cut points of frequency were not written: some cut points are equal" \
        in result.output
    assert "cut points of monetary written into the rules" in result.output
    frozen = rules.read_text(encoding="utf-8")
    assert frozen == text.replace(
        "sum(purchase.amount within 365 days) quintiles\n",
        "sum(purchase.amount within 365 days) quintiles at 0, 19.99, 25, 120\n")
    rs = check(rules)
    assert rs.ok and rs.grades["monetary"].cuts
    again = run(*args[:-2], "-o", tmp_path / "again.csv")
    assert rows(tmp_path / "again.csv") == rows(tmp_path / "scores.csv")
    assert "Cut points of monetary" not in again.output


def test_decayed_points_are_shown_to_the_cent(tmp_path: Path) -> None:
    lead = tmp_path / "lead.json"
    lead.write_text(json.dumps({"ref": "BW-1", "events": [
        {"type": "tracking_demo", "at": "2027-06-08T12:00"}]}), encoding="utf-8")
    result = run("explain", BRIGHTWAVE, lead, "--as-of", AS_OF)
    # 25 × 0.5^(7/14) = 17.6776695…
    assert "+17.68  Tracking demo" in result.output and "17.677" not in result.output


def test_header_and_rows_with_different_separators(tmp_path: Path, leads) -> None:
    lines = leads.read_text(encoding="utf-8").split("\n")
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join([lines[0].replace(",", ";"), *lines[1:]]), encoding="utf-8")
    result = run("score", BRIGHTWAVE, path)
    assert result.exit_code == 1
    assert ("row 2 has 1 cell but the header has 12 columns; the header is separated by "
            "semicolons but this row by commas") in result.output


@pytest.mark.parametrize(("args", "said"), [
    (["score", "{leads}", "{rules}"], "`leadrules score rules.leadrules leads.csv`"),
    (["check", "{leads}"], "`leadrules check rules/`"),
    (["verify", "{rules}", "{leads}"], "`leadrules verify accord.pdf rules.leadrules`"),
    (["render", "{leads}"], "`leadrules render rules.leadrules`"),
])
def test_arguments_in_the_wrong_order(args, said, leads) -> None:
    result = run(*[a.format(leads=leads, rules=BRIGHTWAVE) for a in args])
    assert result.exit_code == 2
    assert "is not a rule file (rule files end in .leadrules, not .csv)" in result.output
    assert said in result.output and "LR001" not in result.output


def test_a_fixture_case_that_expects_nothing_fails(tmp_path) -> None:
    from click.testing import CliRunner

    from leadrules.cli import main

    cases = tmp_path / "cases.csv"
    cases.write_text("email,company_size\na@b.fr,200\n", encoding="utf-8")
    reference = Path(__file__).parent / "fixtures" / "reference.leadrules"
    result = CliRunner().invoke(main, ["test", str(reference), "--cases", str(cases)])
    assert result.exit_code == 1
    assert "this case expects nothing" in result.output


def test_report_refuses_a_folder_a_missing_output_folder_and_an_unknown_suffix(tmp_path) -> None:
    from click.testing import CliRunner

    from leadrules.cli import main

    activities = tmp_path / "activities.csv"
    activities.write_text("lead,type,at\n", encoding="utf-8")
    rules = str(Path(__file__).parents[1] / "rules" / "acme.leadrules")
    base = ["report", rules, "--activities", str(activities)]
    runner = CliRunner()
    folder = runner.invoke(main, [*base, "--leads", str(tmp_path)])
    assert folder.exit_code == 2 and "is a folder" in folder.output
    missing = runner.invoke(main, [*base, "--leads", str(activities),
                                   "-o", str(tmp_path / "nope" / "r.html")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    docx = runner.invoke(main, [*base, "--leads", str(activities), "-o", str(tmp_path / "r.docx")])
    assert docx.exit_code == 2 and "name it .html, .md or .json" in docx.output
    assert not (tmp_path / "r.docx").exists()


def test_fmt_refuses_a_file_that_is_not_rules(tmp_path) -> None:
    from click.testing import CliRunner

    from leadrules.cli import main

    export = tmp_path / "leads.csv"
    export.write_text("hello\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["fmt", str(export)])
    assert result.exit_code == 2
    assert "is not a rule file" in result.output
    assert export.read_text(encoding="utf-8") == "hello\n"
