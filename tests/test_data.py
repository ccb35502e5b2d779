"""Reading CRM exports: every type with good and bad values, messages, files and events."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrules import ast
from leadrules.check import check
from leadrules.data import (
    DataError,
    EnumReader,
    Event,
    Problem,
    Typing,
    ValueProblem,
    csv_text_source,
    detect_format,
    open_source,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
    parse_money,
    parse_number,
    read_events,
    read_leads,
)

PARIS = ZoneInfo("Europe/Paris")

RULES = """
agreement "Test" {
    locale en
    currency EUR
    timezone "Europe/Paris"
}

lead {
    id        text     from "Record ID"  key
    employees int      from "Employees"  missing "n/a"
    revenue   number   from "Revenue"
    budget    money    from "Budget"
    optin     bool     from "Opt-in"
    born      date     from "Founded"
    created   datetime from "Created"
    source    enum(facebook = "Facebook", google = {"Google", "Google Ads"}, other) from "Lead Source" missing "Select"
    note      text     from "Note"
}

event demo "Demo request"
event purchase {
    amount money
}
"""


@pytest.fixture()
def rs(tmp_path):
    path = tmp_path / "rules.leadrules"
    path.write_text(RULES, encoding="utf-8")
    result = check(path)
    assert result.ok, result.diagnostics
    return result


HEADER = "Record ID,Employees,Revenue,Budget,Opt-in,Founded,Created,Lead Source,Note\n"


def leads_of(rs, text):
    from leadrules.data import LeadReader

    return list(LeadReader(rs, csv_text_source(HEADER + text, "leads.csv")))


# ----------------------------------------------------------------------------- value parsers


@pytest.mark.parametrize("text, value", [
    ("12", Decimal(12)), ("-12.5", Decimal("-12.5")), ("12 000", Decimal(12000)),
    ("12\u00a0000,5", Decimal("12000.5")), ("12,000.50", Decimal("12000.50")),
    ("12.000,50", Decimal("12000.50")), ("1,234,567", Decimal(1234567)),
    ("1.234.567", Decimal(1234567)), ("12,5", Decimal("12.5")), ("12,500", Decimal(12500)),
    ("1e3", Decimal(1000)), ("1_000", Decimal(1000)), (" 7 ", Decimal(7)),
])
def test_numbers_as_people_write_them(text, value):
    assert parse_decimal(text) == value


def test_a_lone_comma_before_three_digits_follows_the_locale():
    assert parse_decimal("12,500", decimal_comma=False) == 12500
    assert parse_decimal("12,500", decimal_comma=True) == Decimal("12.5")
    assert parse_decimal("12.500", decimal_comma=True) == Decimal("12.5")


@pytest.mark.parametrize("text", ["abc", "NaN", "inf", "1 2", "1,23,456", "12..5", "1.2.3,4,5",
                                  "--3", "3-", "1 000.000,5 5", ""])
def test_things_that_are_not_numbers(text):
    with pytest.raises(ValueProblem, match="not a number"):
        parse_decimal(text)


def test_int_accepts_whole_values_only():
    assert parse_int("42") == 42
    assert parse_int("42.0") == 42
    assert parse_int("1 042") == 1042
    assert parse_int(42.0) == 42
    assert parse_int(Decimal("7")) == 7
    for bad in ("42.5", "forty", 4.5, True, [1]):
        with pytest.raises(ValueProblem, match="is not a whole number"):
            parse_int(bad)


def test_number_is_int_when_whole_and_exact_decimal_otherwise():
    assert parse_number("3") == 3 and isinstance(parse_number("3"), int)
    assert parse_number("3.0") == 3 and isinstance(parse_number("3.0"), int)
    assert parse_number("2.33") == Decimal("2.33")
    assert parse_number(0.1) == Decimal("0.1")  # the float's shortest text, not 0.1000000000000000055…
    assert isinstance(parse_number(2.5), Decimal)
    with pytest.raises(ValueProblem):
        parse_number(float("nan"))
    with pytest.raises(ValueProblem):
        parse_number(False)


@pytest.mark.parametrize("text, value", [
    ("12000", Decimal(12000)), ("12 000 EUR", Decimal(12000)), ("EUR 12,000.50", Decimal("12000.50")),
    ("€12,000.50", Decimal("12000.50")), ("12 000 €", Decimal(12000)), ("12000eur", Decimal(12000)),
    ("-250", Decimal(-250)),
])
def test_money(text, value):
    result = parse_money(text, "EUR")
    assert result == value and isinstance(result, Decimal)


def test_money_in_another_currency_is_a_problem_never_converted():
    with pytest.raises(ValueProblem, match="is in USD, but this agreement counts money in EUR"):
        parse_money("$5,000", "EUR")
    with pytest.raises(ValueProblem, match="is in GBP"):
        parse_money("5000 GBP", "EUR")
    assert parse_money("5000 GBP", None) == 5000
    with pytest.raises(ValueProblem, match="is not an amount of money in EUR"):
        parse_money("lots", "EUR")
    assert parse_money(12.5, "EUR") == Decimal("12.5")


@pytest.mark.parametrize("text, value", [
    ("true", True), ("FALSE", False), ("Yes", True), ("no", False), ("1", True), ("0", False),
    ("oui", True), ("Non", False), (" y ", True), ("vrai", True), (True, True), (0, False),
])
def test_bool(text, value):
    assert parse_bool(text) is value


@pytest.mark.parametrize("bad", ["maybe", "2", 2, "yes please"])
def test_bool_rejects_the_rest(bad):
    with pytest.raises(ValueProblem, match="is not yes or no"):
        parse_bool(bad)


@pytest.mark.parametrize("text, day_first, value", [
    ("2027-01-15", False, date(2027, 1, 15)),
    ("15/01/2027", True, date(2027, 1, 15)),
    ("01/15/2027", False, date(2027, 1, 15)),
    ("1/5/27", False, date(2027, 1, 5)),
    ("15.01.2027", False, date(2027, 1, 15)),
    ("15 Jan 2027", False, date(2027, 1, 15)),
    ("Jan 15, 2027", True, date(2027, 1, 15)),
    ("15 janvier 2027", True, date(2027, 1, 15)),
    ("2027-01-15 23:30", True, date(2027, 1, 15)),
    ("2027-01-15T23:30:00Z", True, date(2027, 1, 16)),  # already the 16th in Paris
])
def test_dates(text, day_first, value):
    assert parse_date(text, PARIS, day_first) == value


def test_date_in_the_wrong_order_says_how_dates_are_read():
    with pytest.raises(ValueProblem, match="dates with / are read MM/DD/YYYY"):
        parse_date("25/12/2027", PARIS, day_first=False)
    with pytest.raises(ValueProblem, match="is not a date"):
        parse_date("tomorrow", PARIS)
    with pytest.raises(ValueProblem, match="is not a date"):
        parse_date("2027-02-30", PARIS)


@pytest.mark.parametrize("text, value", [
    ("2027-01-15T09:30", datetime(2027, 1, 15, 9, 30, tzinfo=PARIS)),
    ("2027-01-15 09:30:00", datetime(2027, 1, 15, 9, 30, tzinfo=PARIS)),
    ("2027-07-15T09:30:00Z", datetime(2027, 7, 15, 11, 30, tzinfo=PARIS)),
    ("2027-01-15T09:30:00+05:30", datetime(2027, 1, 15, 4, 0, tzinfo=UTC)),
    ("15/01/2027 09:30", datetime(2027, 1, 15, 9, 30, tzinfo=PARIS)),
    ("15/01/2027 9h30", datetime(2027, 1, 15, 9, 30, tzinfo=PARIS)),
    ("Jan 15, 2027 9:30 PM", datetime(2027, 1, 15, 21, 30, tzinfo=PARIS)),
    ("15/01/2027 12:05 AM", datetime(2027, 1, 15, 0, 5, tzinfo=PARIS)),
    ("15/01/2027 09:30:15.5 +0100", datetime(2027, 1, 15, 9, 30, 15, 500000, tzinfo=PARIS)),
    ("2027-01-15", datetime(2027, 1, 15, tzinfo=PARIS)),
])
def test_datetimes_naive_means_the_agreement_timezone(text, value):
    result = parse_datetime(text, PARIS, day_first=True)
    assert result == value
    assert result.tzinfo is not None


def test_datetimes_from_programs():
    naive = datetime(2027, 1, 15, 9, 30)
    assert parse_datetime(naive, PARIS) == naive.replace(tzinfo=PARIS)
    assert parse_datetime(date(2027, 1, 15), PARIS) == datetime(2027, 1, 15, tzinfo=PARIS)
    aware = datetime(2027, 1, 15, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert parse_datetime(aware, PARIS) == aware
    for bad in ("15/01/2027 25:00", "15/01/2027 13:00 PM", "noon", 12):
        with pytest.raises(ValueProblem):
            parse_datetime(bad, PARIS, True)


def test_enum_exact_then_loose_then_did_you_mean():
    members = (ast.EnumMember("facebook", ("Facebook",)), ast.EnumMember("google", ("Google", "Google Ads")),
               ast.EnumMember("other"))
    read = EnumReader("lead_source", members)
    assert read("Facebook") == "facebook"
    assert read("google ads") == "google"
    assert read("  GOOGLE   ADS ") == "google"
    assert read("other") == "other"
    assert read("facebook") == "facebook"  # the member's own name, as programs write it
    with pytest.raises(ValueProblem) as info:
        read("Facebok")
    assert str(info.value) == "is not one of the values of lead_source; did you mean 'Facebook'?"
    with pytest.raises(ValueProblem, match=r"\(expected 'Facebook', 'Google', 'Google Ads', 'other'\)"):
        read("Bing")


def test_enum_spelling_wins_over_another_members_name():
    members = (ast.EnumMember("a", ("b",)), ast.EnumMember("b", ("x",)))
    read = EnumReader("f", members)
    assert read("b") == "a"
    assert read("x") == "b"


def test_problem_message_names_row_column_value():
    problem = Problem("leads.csv", 1042, "Lead Source", "Facebok",
                      "is not one of the values of lead_source; did you mean 'Facebook'?")
    assert str(problem) == ("row 1 042, column 'Lead Source': 'Facebok' is not one of the values "
                            "of lead_source; did you mean 'Facebook'?")


# ----------------------------------------------------------------------------- leads


def test_a_good_row_is_typed(rs):
    (row, lead, problems), = leads_of(
        rs, 'L1,"1 200",2.5,"12 000 EUR",yes,15.01.1999,2027-03-01 10:00,Google Ads,"a, b"\n')
    assert row == 2
    assert problems == []
    assert lead == {
        "id": "L1", "employees": 1200, "revenue": Decimal("2.5"), "budget": Decimal(12000),
        "optin": True, "born": date(1999, 1, 15),
        "created": datetime(2027, 3, 1, 10, 0, tzinfo=PARIS), "source": "google", "note": "a, b"}


def test_missing_spellings_and_empty_cells_are_missing(rs):
    (_, lead, problems), = leads_of(rs, "L1,n/a,,  ,,,,Select,\n")
    assert problems == []
    assert lead == dict.fromkeys(["employees", "revenue", "budget", "optin", "born", "created",
                                  "source", "note"]) | {"id": "L1"}
    (_, lead, _), = leads_of(rs, "L1,N/A,,,,,,select,\n")
    assert lead["employees"] is None and lead["source"] is None


def test_each_bad_value_is_a_problem_and_the_field_unknown(rs):
    (row, lead, problems), = leads_of(
        rs, "L9,many,1.2.3,12 USD,perhaps,31/02/2027,yesterday,Facebok,fine\n")
    assert row == 2
    assert lead["id"] == "L9" and lead["note"] == "fine"
    assert all(lead[name] is None for name in ("employees", "revenue", "budget", "optin", "born",
                                                "created", "source"))
    assert [(p.row, p.column, p.value) for p in problems] == [
        (2, "Employees", "many"), (2, "Revenue", "1.2.3"), (2, "Budget", "12 USD"),
        (2, "Opt-in", "perhaps"), (2, "Founded", "31/02/2027"), (2, "Created", "yesterday"),
        (2, "Lead Source", "Facebok")]
    assert str(problems[0]) == "row 2, column 'Employees': 'many' is not a whole number"
    assert str(problems[-1]) == ("row 2, column 'Lead Source': 'Facebok' is not one of the values "
                                 "of source; did you mean 'Facebook'?")


def test_an_empty_key_is_a_problem(rs):
    (_, lead, problems), = leads_of(rs, ",1,,,,,,,\n")
    assert lead["id"] is None
    assert [str(p) for p in problems] == [
        "row 2, column 'Record ID': '' is empty: every lead needs its key"]


def test_missing_and_unreadable_counts(rs):
    from leadrules.data import LeadReader

    reader = LeadReader(rs, csv_text_source(HEADER + "A,1,,,,,,,\nB,x,,,,,,,\nC,,,,,,,,\n"))
    assert len(list(reader)) == 3
    assert reader.missing["employees"] == 1
    assert reader.unreadable["employees"] == 1
    assert reader.missing["note"] == 3


def test_columns_are_found_ignoring_case_and_spaces(rs):
    text = "record id, EMPLOYEES \nA,5\n"
    from leadrules.data import LeadReader

    reader = LeadReader(rs, csv_text_source(text))
    (_, lead, problems), = list(reader)
    assert lead["id"] == "A" and lead["employees"] == 5
    assert sorted(reader.absent) == sorted(["revenue", "budget", "optin", "born", "created",
                                            "source", "note"])


def test_no_key_column_is_a_clear_error(rs):
    from leadrules.data import LeadReader

    with pytest.raises(DataError) as info:
        LeadReader(rs, csv_text_source("Record Id2,Employees\nA,5\n", "leads.csv"))
    message = str(info.value)
    assert "no column 'Record ID', the key of the leads (field id" in message
    assert "did you mean 'Record Id2'?" in message
    assert "'Employees'" in message


def test_semicolon_files_as_french_excel_writes_them(rs):
    from leadrules.data import LeadReader

    (_, lead, _), = list(LeadReader(rs, csv_text_source('Record ID;Budget\nA;"12 000,50 €"\n')))
    assert lead["budget"] == Decimal("12000.50")


def test_malformed_row_stops_with_its_row_number(tmp_path, rs):
    path = tmp_path / "leads.csv"
    path.write_text(HEADER + "A,1,,,,,,,\nB,1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"row 3 has 3 cells but the header has 9 columns"):
        list(read_leads(rs, path))


def test_blank_lines_are_not_leads(rs):
    assert [r for r, _, _ in leads_of(rs, "A,,,,,,,,\n\nB,,,,,,,,\n")] == [2, 4]


def test_not_utf8_says_how_to_fix(tmp_path, rs):
    path = tmp_path / "leads.csv"
    path.write_bytes((HEADER + "A,,,,,,,,Société\n").encode("latin-1"))
    with pytest.raises(DataError, match="--encoding"):
        list(read_leads(rs, path))
    (_, lead, _), = list(read_leads(rs, path, encoding="latin-1"))
    assert lead["note"] == "Société"


def test_byte_order_mark_and_gzip(tmp_path, rs):
    path = tmp_path / "leads.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8-sig") as f:
        f.write(HEADER + "A,3,,,,,,,\n")
    (_, lead, _), = list(read_leads(rs, path))
    assert lead["id"] == "A" and lead["employees"] == 3


def test_missing_file_and_unknown_format(tmp_path, rs):
    with pytest.raises(DataError, match="does not exist"):
        open_source(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="cannot tell the format"):
        detect_format("leads.xlsx")
    assert detect_format("x.ndjson") == "jsonl" and detect_format("x.PQ") == "parquet"


# ----------------------------------------------------------------------------- JSON Lines, Parquet


def test_json_lines_with_embedded_events(tmp_path, rs):
    path = tmp_path / "leads.jsonl"
    records = [
        {"Record ID": "A", "Employees": 12, "Budget": 1500.5, "Opt-in": True, "Lead Source": "Facebook",
         "events": [{"type": "demo", "at": "2027-01-02T10:00"},
                    {"type": "purchase", "at": "2027-01-03", "amount": "99.90 EUR"},
                    {"type": "page_view", "at": "2027-01-03"},
                    {"type": "Demo request", "at": "2027-01-04T08:00:00Z"},
                    {"type": "purchase", "at": "2027-01-05", "properties": {"amount": "lots"}},
                    {"type": "demo", "at": "never"}]},
        {"id": "B", "employees": "7"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n\n", encoding="utf-8")
    rows = list(read_leads(rs, path))
    assert [r for r, _, _ in rows] == [1, 2]
    (_, a, problems_a), (_, b, problems_b) = rows
    assert a["budget"] == Decimal("1500.5") and a["optin"] is True and a["source"] == "facebook"
    assert a["events"] == [
        Event("demo", datetime(2027, 1, 2, 10, tzinfo=PARIS), {}),
        Event("purchase", datetime(2027, 1, 3, tzinfo=PARIS), {"amount": Decimal("99.90")}),
        Event("demo", datetime(2027, 1, 4, 9, tzinfo=PARIS), {}),
        Event("purchase", datetime(2027, 1, 5, tzinfo=PARIS), {"amount": None}),
    ]
    assert [(p.column, p.value) for p in problems_a] == [("events[4].amount", "lots"),
                                                         ("events[5].at", "never")]
    # Programs may write field names instead of export columns.
    assert b["id"] == "B" and b["employees"] == 7 and problems_b == []


def test_json_lines_bad_line(tmp_path, rs):
    path = tmp_path / "leads.jsonl"
    path.write_text('{"Record ID": "A"}\n{"Record ID": \n', encoding="utf-8")
    with pytest.raises(DataError, match="line 2 is not valid JSON"):
        list(read_leads(rs, path))


def test_json_array_file(tmp_path, rs):
    path = tmp_path / "leads.json"
    path.write_text(json.dumps([{"Record ID": "A"}, {"Record ID": "B", "Employees": "x"}]))
    rows = list(read_leads(rs, path))
    assert [lead["id"] for _, lead, _ in rows] == ["A", "B"]
    assert [str(p) for p in rows[1][2]] == ["row 2, column 'Employees': 'x' is not a whole number"]


def test_parquet_leads(tmp_path, rs):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({
        "Record ID": ["A", "B", None],
        "Employees": [10, None, 3],
        "Budget": pa.array([Decimal("12.50"), None, Decimal(3)], pa.decimal128(10, 2)),
        "Created": [datetime(2027, 1, 1, 9), None, datetime(2027, 1, 1, 8)],
        "Lead Source": ["Google", "Nope", None],
        "Unused": [1, 2, 3],
    })
    path = tmp_path / "leads.parquet"
    pq.write_table(table, path)
    rows = list(read_leads(rs, path))
    assert [r for r, _, _ in rows] == [1, 2, 3]
    a = rows[0][1]
    assert a["employees"] == 10 and a["budget"] == Decimal("12.50")
    assert a["created"] == datetime(2027, 1, 1, 9, tzinfo=PARIS)
    assert rows[2][1]["created"] == datetime(2027, 1, 1, 8, tzinfo=PARIS)
    assert [str(p) for p in rows[1][2]] == [
        "row 2, column 'Lead Source': 'Nope' is not one of the values of source (expected "
        "'Facebook', 'Google', 'Google Ads', 'other')"]
    assert [str(p) for p in rows[2][2]] == [
        "row 3, column 'Record ID': '' is empty: every lead needs its key"]


# ----------------------------------------------------------------------------- events files


def test_events_file_grouped_by_key(tmp_path, rs):
    path = tmp_path / "events.csv"
    path.write_text(
        "Record ID,type,at,amount\n"
        "A,demo,2027-01-03T10:00,\n"
        "A,demo,2027-01-01T10:00,\n"
        "B,purchase,2027-01-02,120 EUR\n"
        "B,purchase,2027-01-02,abc\n"
        "B,newsletter_open,2027-01-02,\n"
        ",demo,2027-01-02,\n"
        "C,demo,not a date,\n"
        "Z,demo,2027-01-02,\n", encoding="utf-8")
    events = read_events(rs, path)
    assert events.rows == 8
    assert events.take("A") == [Event("demo", datetime(2027, 1, 1, 10, tzinfo=PARIS), {}),
                                Event("demo", datetime(2027, 1, 3, 10, tzinfo=PARIS), {})]
    assert [e.properties for e in events.take("B")] == [{"amount": Decimal(120)},
                                                        {"amount": None}]
    assert events.take("nobody") == []
    assert events.ignored == {"newsletter_open": 1}
    assert events.orphans == 1  # Z
    assert [(p.row, p.column, p.value) for p in events.problems] == [
        (5, "amount", "abc"), (7, "Record ID", ""), (8, "at", "not a date")]


def test_events_file_needs_key_type_and_at(tmp_path, rs):
    path = tmp_path / "events.csv"
    path.write_text("lead_id,type,at\n", encoding="utf-8")
    with pytest.raises(DataError, match="has no column 'Record ID' to join events"):
        read_events(rs, path)
    path.write_text("Record ID,kind,when\n", encoding="utf-8")
    with pytest.raises(DataError, match="no 'type' and 'at' column"):
        read_events(rs, path)


def test_parquet_timestamps_with_a_zone(tmp_path, rs):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "leads.parquet"
    stamps = pa.array([datetime(2027, 7, 1, 8, tzinfo=UTC)], pa.timestamp("us", tz="UTC"))
    pq.write_table(pa.table({"Record ID": ["A"], "Created": stamps}), path)
    (_, lead, _), = list(read_leads(rs, path))
    assert lead["created"] == datetime(2027, 7, 1, 10, tzinfo=PARIS)


def test_events_as_parquet(tmp_path, rs):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "events.parquet"
    pq.write_table(pa.table({"Record ID": ["A", "A"], "type": ["purchase", "demo"],
                             "at": [datetime(2027, 1, 2), datetime(2027, 1, 1)],
                             "amount": [Decimal("5.5"), None]}), path)
    events = read_events(rs, path)
    assert events.take("A") == [Event("demo", datetime(2027, 1, 1, tzinfo=PARIS), {}),
                                Event("purchase", datetime(2027, 1, 2, tzinfo=PARIS),
                                      {"amount": Decimal("5.5")})]


def test_typing_defaults_without_agreement():
    typing = Typing(None)
    assert typing.zone == ZoneInfo("UTC") and typing.currency is None
    convert = typing.converter("x", ast.TypeSpec("datetime"))
    assert convert("2027-01-01 10:00") == datetime(2027, 1, 1, 10, tzinfo=ZoneInfo("UTC"))
    assert convert(None) is None and convert("") is None and convert(float("nan")) is None
    with pytest.raises(ValueProblem, match="list or an object"):
        typing.converter("x", ast.TypeSpec("text"))(["a"])


def test_parquet_without_pyarrow_says_how_to_install(tmp_path, rs, monkeypatch):
    import sys

    path = tmp_path / "leads.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(DataError, match=r"needs the pyarrow package: install it with "
                                        r"`pip install 'leadrules\[parquet\]'`"):
        list(read_leads(rs, path))


def test_repeated_cell_texts_are_read_once_and_still_reported_each_time(rs):
    rows = leads_of(rs, "A,x,,,,,,Google,\nB,x,,,,,,Google,\nC,7,,,,,,Gogle,\nD,7,,,,,,Gogle,\n")
    assert [lead["source"] for _, lead, _ in rows] == ["google", "google", None, None]
    assert [[(p.row, p.column, p.value) for p in problems] for _, _, problems in rows] == [
        [(2, "Employees", "x")], [(3, "Employees", "x")],
        [(4, "Lead Source", "Gogle")], [(5, "Lead Source", "Gogle")]]


# ----------------------------------------------------------------------------- properties


@given(st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False))
def test_numbers_written_with_any_grouping_read_back_exactly(value):
    text = f"{value:,.2f}"
    assert parse_decimal(text) == value                                    # 1,234,567.89
    assert parse_decimal(text.replace(",", " ")) == value                  # 1 234 567.89
    french = text.replace(",", "\u202f").replace(".", ",")
    assert parse_decimal(french, decimal_comma=True) == value              # 1 234 567,89
    german = text.replace(",", "_").replace(".", ",").replace("_", ".")
    assert parse_decimal(german) == value                                  # 1.234.567,89


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(), st.booleans(), st.none(),
                 st.dates(), st.datetimes()),
       st.sampled_from(["int", "number", "money", "text", "bool", "date", "datetime", "enum"]))
def test_any_value_is_typed_or_a_value_problem_never_a_crash(raw, kind):
    members = (ast.EnumMember("a", ("Alpha",)), ast.EnumMember("b"))
    convert = Typing(None, currency="EUR", locale="fr").converter(
        "f", ast.TypeSpec(kind, members if kind == "enum" else ()), ("n/a",))
    try:
        convert(raw)
    except ValueProblem:
        pass


@pytest.mark.parametrize("kind", ["int", "number", "money"])
@pytest.mark.parametrize("raw", ["1e400", "1e28", "-1E+30", 10 ** 28, -(10 ** 40),
                                 1e300, Decimal("1e40"), "9" * 29,
                                 "99 999 999 999 999 999 999 999 999 999"])
def test_numbers_too_large_to_count_exactly_are_problems(raw, kind):
    convert = Typing(None, currency="EUR", locale="en").converter("f", ast.TypeSpec(kind))
    with pytest.raises(ValueProblem, match=r"is too large a number \(more than 28 digits\)"):
        convert(raw)
    if kind == "money":
        with pytest.raises(ValueProblem, match="too large"):
            convert(f"{raw} EUR")


@pytest.mark.parametrize("kind", ["int", "number", "money"])
def test_the_largest_numbers_still_read(kind):
    convert = Typing(None, currency="EUR", locale="en").converter("f", ast.TypeSpec(kind))
    for raw in ("9" * 28, 10 ** 28 - 1, "-" + "9" * 28, Decimal("9" * 28)):
        assert abs(convert(raw)) == 10 ** 28 - 1
    assert convert("1e27") == 10 ** 27 and convert("9.999e27") == Decimal("9.999e27")


@settings(max_examples=300)
@given(st.from_regex(r"[+-]?[0-9]{0,40}([.,][0-9]{0,40})?([eE][+-]?[0-9]{1,7})?( EUR)?",
                     fullmatch=True),
       st.sampled_from(["int", "number", "money"]))
def test_any_number_shaped_text_is_typed_or_a_value_problem(raw, kind):
    convert = Typing(None, currency="EUR", locale="fr").converter("f", ast.TypeSpec(kind))
    try:
        value = convert(raw)
    except ValueProblem:
        return
    assert value is None or abs(value) < 10 ** 28


@pytest.mark.parametrize("text", ["2027-01-01T10:00+99:00", "2027-01-01T10:00+24:00",
                                  "2027-01-01 10:00 -25:30"])
def test_an_offset_of_a_day_or_more_is_not_a_date_and_time(text):
    with pytest.raises(ValueProblem) as found:
        parse_datetime(text, PARIS)
    assert found.value.key == "not_datetime"
    assert parse_datetime("2027-01-01T10:00+23:59", PARIS) == datetime(
        2026, 12, 31, 10, 1, tzinfo=UTC)
