"""Tests for leadrules.render: golden HTML, sentences for every condition form, typography,
message files complete in both languages, escaping, and `leadrules render` on the command line."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadrules.check import check
from leadrules.cli import main
from leadrules.render import RenderError, render_html, render_markdown, seal
from leadrules.render.messages import LANGUAGES, Messages, load
from leadrules.render.sentences import Phrasing
from leadrules.render.typography import NBSP, NNBSP, Typography, french_spacing
from leadrules.syntax import parse_condition

HERE = Path(__file__).parent
ROOT = HERE.parent
GOLDEN = HERE / "render"
REFERENCE = HERE / "fixtures" / "reference.leadrules"
ACME = ROOT / "rules" / "acme.leadrules"
ACME_EN = ROOT / "rules" / "acme-en.leadrules"
UPDATE = os.environ.get("LEADRULES_UPDATE_GOLDEN") == "1"
ON = date(2027, 1, 1)
PACKAGE = ROOT / "src" / "leadrules"


@pytest.fixture(scope="module")
def reference():
    rs = check(REFERENCE)
    assert rs.ok, rs.diagnostics
    return rs


# ----------------------------------------------------------------------------- goldens

GOLDENS = [
    (REFERENCE, "fr", "reference.fr.expected.html"),
    (ACME, "fr", "acme.fr.expected.html"),
    (ACME_EN, "en", "acme-en.en.expected.html"),
]


@pytest.mark.parametrize(("rules", "lang", "golden"), GOLDENS, ids=[g[2] for g in GOLDENS])
def test_golden_html(rules: Path, lang: str, golden: str) -> None:
    if not rules.exists():
        pytest.skip(f"{rules} is not there")
    rs = check(rules)
    assert rs.ok, rs.diagnostics
    html = render_html(rs, lang=None, on=ON)
    assert f'<html lang="{lang}">' in html  # the agreement's locale is the default language
    path = GOLDEN / golden
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(html, encoding="utf-8")
    assert path.exists(), f"no golden {path}: run with LEADRULES_UPDATE_GOLDEN=1"
    assert html == path.read_text(encoding="utf-8")


def test_html_is_deterministic_and_sealed(reference) -> None:
    first = render_html(reference, on=ON)
    assert first == render_html(check(REFERENCE), on=ON)
    digest, ok = seal.check_text(first)
    assert ok and digest is not None and digest != seal.ZEROS


def test_html_is_standalone_and_accessible(reference) -> None:
    html = render_html(reference, on=ON)
    assert not re.search(r"""(src|href)=["'](https?:|//)""", html)
    assert "@import" not in html and "url(" not in html
    assert '<html lang="fr">' in html
    # Headings go down one level at a time: h1, then h2 sections with h3 inside.
    levels = [int(n) for n in re.findall(r"<h([1-6])", html)]
    assert levels[0] == 1
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False))
    for header in re.findall(r"<th\b[^>]*>", html):
        assert 'scope="' in header
    assert "@media print" in html and "@page" in html
    assert "hyphens: auto" in html


def test_footer_has_version_fingerprint_and_page_numbers(reference) -> None:
    html = render_html(reference, on=ON)
    page = re.search(r"@page \{\n  @bottom-left \{ content: (.*?); \}\n  @bottom-right \{ "
                     r"content: (.*?); \}", html)
    assert page is not None
    left, right = page.groups()
    assert "counter(page)" in right and "counter(pages)" in right
    decoded = re.sub(r"\\([0-9a-f]{6}) ", lambda m: chr(int(m.group(1), 16)), left)
    assert "2027.1" in decoded and reference.fingerprint in decoded


def test_english_rendering_of_a_french_agreement(reference) -> None:
    html = render_html(reference, lang="en", on=ON)
    assert '<html lang="en">' in html
    assert "Marketing commits to delivering at least" in html
    assert "€960,000" in html


def test_unknown_language_is_refused(tmp_path: Path) -> None:
    text = REFERENCE.read_text(encoding="utf-8").replace("locale fr", "locale de")
    path = tmp_path / "de.leadrules"
    path.write_text(text, encoding="utf-8")
    rs = check(path)
    with pytest.raises(RenderError, match="fr and en"):
        render_html(rs, on=ON)
    assert '<html lang="fr">' in render_html(rs, lang="fr", on=ON)


# ----------------------------------------------------------------------------- the funnel


def test_marketing_funnel_formulas_and_results(reference) -> None:
    html = render_html(reference, on=ON)
    nn = NNBSP
    assert f"2{nn}400{nn}000{NBSP}€ × 40{NBSP}% = 960{nn}000{NBSP}€" in html
    assert f"960{nn}000{NBSP}€ ÷ 12{nn}000{NBSP}€ = 80" in html
    assert f"80 ÷ (50{NBSP}% × 60{NBSP}% × 25{NBSP}%) = 1{nn}066,7" in html
    assert f"80 ÷ (20{NBSP}% × 50{NBSP}% × 60{NBSP}% × 25{NBSP}%) = 5{nn}333,3" in html
    mql = re.search(r"Lead qualifié marketing \(MQL\)</em></th><td>.*?</td>"
                    r"<td class=\"year\">(.*?)</td><td class=\"month\">(.*?)</td>", html)
    assert mql is not None and mql.groups() == (f"1{nn}067", "89")
    leads = re.search(r"<em class=\"term\">Lead</em></th><td>.*?</td>"
                      r"<td class=\"year\">(.*?)</td><td class=\"month\">(.*?)</td>", html)
    assert leads is not None and leads.groups() == (f"5{nn}334", "445")
    assert "inférieur au besoin calculé, qui est de 89 par mois" in html


# ----------------------------------------------------------------------------- sentences


def say(rs, lang: str, text: str) -> str:
    phrasing = Phrasing(rs, Messages(lang))
    node = phrasing.sentence(parse_condition(text))

    def flat(n) -> str:
        return n.line.plain + "".join(" [" + flat(c) + "]" for c in n.children)

    return flat(node).replace(NNBSP, " ").replace(NBSP, " ")


FRENCH = [
    ("company_size between 50 and 1000",
     "La taille de l’entreprise est comprise entre 50 et 1 000"),
    ("industry in {saas, finance}", "Le champ « Industry » est Software ou Financial Services"),
    ('country not in {"US", "CA"}', "Le champ « Country/Region » n’est ni « US » ni « CA »"),
    ("budget >= 10_000 EUR", "Le champ budget est d’au moins 10 000 €"),
    ("email.domain in free_email_domains",
     "Le domaine du champ « Email » figure dans la liste free email domains"),
    ('job_title contains "directeur"', "Le champ « Job Title » contient « directeur »"),
    ('job_title starts with "Dir"', "Le champ « Job Title » commence par « Dir »"),
    ('job_title ends with "CEO"', "Le champ « Job Title » se termine par « CEO »"),
    ('job_title matches "^dir.*"', "Le champ « Job Title » correspond au motif ^dir.* (expression régulière)"),
    ("mql_at is present", "Le champ mql_at est renseigné"),
    ("mql_at is missing", "Le champ mql_at n’est pas renseigné"),
    ("demo_request within 7 days", "Il y a eu une demande de démo au cours des 7 derniers jours"),
    ("count(pricing_page_visit within 30 days) >= 3",
     "Il y a eu au moins 3 visites de la page tarifs au cours des 30 derniers jours"),
    ("sum(purchase.amount within 365 days) >= 1000",
     "La somme du champ amount des achats au cours des 365 derniers jours est "
     "d’au moins 1 000"),
    ("days since last purchase <= 30", "Le dernier achat remonte à 30 jours ou moins"),
    ("icp", "Le lead appartient au segment Profil client idéal"),
    ("fit >= 40 and temperature == hot",
     "Le score Adéquation au profil est d’au moins 40 et la note Température est Chaud"),
    ("not (icp or source == partner)",
     "Le lead n’appartient pas au segment Profil client idéal et le champ source n’est "
     "pas partner"),
    ("bant", "Le lead est qualifié selon BANT"),
    ("bant.authority", "Le critère Autorité de BANT est rempli"),
    ("bant.count >= 2", "Le nombre de critères BANT remplis est d’au moins 2"),
    ("stage >= mql", "Le lead a atteint l’étape Lead qualifié marketing (MQL) ou une étape "
     "ultérieure"),
    ("stage == sql", "Le lead est à l’étape Lead qualifié commercial (SQL)"),
    ("route == enterprise", "Le lead est attribué à Équipe grands comptes"),
    ("created_at >= 2027-01-01",
     "Le champ « Create Date » est postérieur ou égal au 1\u1d49\u02b3 janvier 2027"),
    ("not demo_request within 7 days",
     "Il n’y a pas eu de demande de démo au cours des 7 derniers jours"),
    ("not (company_size between 1 and 9)",
     "La taille de l’entreprise n’est pas comprise entre 1 et 9"),
    ("(fit >= 40 and engagement >= 25) or demo_request within 7 days",
     "Au moins une des conditions suivantes est remplie : [le score Adéquation au profil est "
     "d’au moins 40 et le score Engagement est d’au moins 25 ;] [il y a eu une demande de démo "
     "au cours des 7 derniers jours]"),
    # An ordered comparison on an enum or a grade lists the values it lets through.
    ("status >= connected",
     "Le champ status est connected, qualified, unqualified ou bad timing"),
    ("status < connected", "Le champ status est new ou attempted"),
    ("temperature >= warm", "La note Température est Chaud ou Tiède"),
    ("not temperature >= warm", "La note Température est Froid"),
    ("fit_grade in {A, B} and temperature in {hot, warm}",
     "Toutes les conditions suivantes sont remplies : [la note d’adéquation est A ou B ;] "
     "[la note Température est Chaud ou Tiède]"),
]

ENGLISH = [
    ("company_size between 50 and 1000", "The taille de l’entreprise is between 50 and 1,000"),
    ('country not in {"US", "CA"}', "The country is neither “US” nor “CA”"),
    ("budget >= 10_000 EUR", "The budget is at least €10,000"),
    ("email.domain in free_email_domains",
     "The domain of the email is in the free email domains list"),
    ('job_title matches "^dir.*"', "The job title matches the pattern ^dir.* (a regular expression)"),
    ("mql_at is missing", "The MQL date is missing"),
    ("demo_request within 7 days", "There was a demande de démo in the last 7 days"),
    ("not demo_request within 7 days", "There was no demande de démo in the last 7 days"),
    # A French label is not put in the plural by English rules.
    ("count(pricing_page_visit within 30 days) >= 3",
     "There were at least 3 Visite de la page tarifs events in the last 30 days"),
    ("days since last purchase <= 30", "The last achat was at most 30 days ago"),
    ("not (icp or source == partner)",
     "The lead does not belong to the Profil client idéal segment and the source is not partner"),
    ("bant.authority", "The Autorité criterion of BANT is met"),
    ("stage >= mql", "The lead has reached the Lead qualifié marketing (MQL) stage or a later one"),
    ("route != smb", "The lead is not routed to Équipe PME"),
    ("status > qualified", "The status is unqualified or bad timing"),
    ("temperature > warm", "The Température grade is Chaud"),
    ("created_at >= 2027-01-01", "The date created is on or after January 1, 2027"),
]


@pytest.mark.parametrize(("text", "expected"), FRENCH)
def test_french_sentences(reference, text: str, expected: str) -> None:
    assert say(reference, "fr", text) == expected


@pytest.mark.parametrize(("text", "expected"), ENGLISH)
def test_english_sentences(reference, text: str, expected: str) -> None:
    assert say(reference, "en", text) == expected


@pytest.mark.parametrize(("lang", "text", "expected"), [
    ("fr", "pages_per_visit > 4", "Le champ « Pages vues par visite » est supérieur à 4"),
    ("fr", "company_size < 10", "La taille de l’entreprise est inférieure à 10"),
    ("fr", "contract_end < 2027-01-01",
     "L’échéance du contrat chez le fournisseur actuel est antérieure au 1ᵉʳ janvier 2027"),
    ("fr", "created_at >= 2027-01-01T09:30",
     "La date de création est postérieure ou égale au 1ᵉʳ janvier 2027 à 9 h 30"),
    ("fr", "mql_at > created_at",
     "La date de passage en MQL est postérieure à la date de création"),
    ("fr", 'job_title is present and job_title != "Autre"',
     "La fonction est renseignée et différente de « Autre »"),
    ("fr", "budget is present and budget < 2_500 EUR",
     "Le budget annoncé est renseigné et inférieur à 2 500 €"),
    ("fr", 'country == "FR" or country == "BE" or country == "CH"',
     "Le pays est « FR », « BE » ou « CH »"),
    ("fr", 'not (country == "FR" or country == "BE")', "Le pays n’est ni « FR » ni « BE »"),
    ("fr", 'country == "FR" or company_size < 10',
     "Le pays est « FR » ou la taille de l’entreprise est inférieure à 10"),
    ("en", "pages_per_visit > 4", "The “Pages vues par visite” field is more than 4"),
    ("en", "contract_end < 2027-01-01",
     "The échéance du contrat chez le fournisseur actuel is before January 1, 2027"),
    ("en", 'job_title is present and job_title != "Autre"',
     "The fonction is filled in and is not “Autre”"),
    ("en", 'country == "FR" or country == "BE" or country == "CH"',
     "The “Pays” field is “FR”, “BE”, or “CH”"),
])
def test_comparison_words(acme, lang: str, text: str, expected: str) -> None:
    assert say(acme, lang, text) == expected


def test_comparison_words_in_the_document(acme) -> None:
    fr = document(acme, "fr")
    assert "Le champ « Pages vues par visite » est supérieur à 4" in fr
    assert "la taille de l’entreprise est inférieure à 10 et le lead" in fr
    assert ("l’échéance du contrat chez le fournisseur actuel est antérieure ou égale au "
            "31 décembre 2027") in fr
    assert "est de plus de" not in fr and "est de moins de" not in fr and " ou avant" not in fr


def test_grade_tables_and_cut_points_carry_their_units(acme) -> None:
    fr, en = document(acme, "fr"), document(acme, "en")
    assert "| *Moins d’un mois* | 30 jours ou moins |" in fr
    assert "| *Moins d’un trimestre* | plus de 30 jours et jusqu’à 90 jours |" in fr
    assert "Seuils figés : 2 400 €, 6 000 €, 12 000 € et 30 000 €." in fr
    assert "Seuils figés : 1, 2, 3 et 5 *achats*." in fr
    assert "| *Moins d’un mois* | 30 days or less |" in en
    assert "| *Moins d’un trimestre* | more than 30 days and up to 90 days |" in en
    assert "Frozen cut points: €2,400; €6,000; €12,000; and €30,000." in en
    assert "Frozen cut points: 1, 2, 3, and 5 *Achat* events." in en


def test_vocabulary_of_stages_titles_limits_zones_and_currencies(acme) -> None:
    fr, en = document(acme, "fr"), document(acme, "en")
    assert "stade" not in fr
    assert ("Le lead franchit les étapes suivantes dans l’ordre. Il atteint une étape lorsque la "
            "condition de cette étape est remplie et qu’il a atteint l’étape précédente : aucune "
            "étape n’est sautée.") in fr
    assert ("dans un délai de 4 heures ouvrées après son passage à l’étape *Lead qualifié "
            "marketing (MQL)*") in fr
    assert "## 5. Notes et classements des leads" in fr
    assert "| Critère | Points | Limite |" in fr and "| Criterion | Points | Limit |" in en
    assert "Plafond" not in fr
    assert "de 14 h à 17 h (heure de Paris)." in fr and "to 5:00 PM (Paris time)." in en
    assert "| `budget` | montant en euros |" in fr and "| `budget` | amount in euros |" in en
    assert "| *D* | dans tous les autres cas |" in fr and "| *D* | in all other cases |" in en
    assert "| *Priorité 4* | Dans tous les autres cas |" in fr
    us = document(check(ACME_EN), "en")
    assert "(New York time)" in us and "amount in US dollars" in us
    assert Typography("fr").zone_city("UTC") is None
    assert Typography("fr").zone_city("Europe/Paris") == "Paris"


def test_a_year_shared_by_dates_is_said_once(acme) -> None:
    fr, en = document(acme, "fr"), document(acme, "en")
    assert "En vigueur du 1ᵉʳ janvier au 31 décembre 2027" in fr
    assert "In force from January 1 to December 31, 2027" in en
    assert ("Jours fériés 2027, qui ne comptent pas : 1ᵉʳ janvier, 29 mars, 1ᵉʳ mai, 6 mai, "
            "8 mai, 17 mai, 14 juillet, 15 août, 1ᵉʳ novembre, 11 novembre et 25 décembre.") in fr
    assert ("2027 holidays, which do not count: January 1, March 29, May 1, May 6, May 8, "
            "May 17, July 14, August 15, November 1, November 11, and December 25.") in en
    assert Typography("fr").day_month(date(2027, 3, 29)) == f"29{NBSP}mars"


def test_english_is_us_english_with_the_serial_comma(acme) -> None:
    us, en, fr = document(check(ACME_EN), "en"), document(acme, "en"), document(acme, "fr")
    # "Monday to Friday", as check, report and plan say it (also US usage).
    assert "Monday to Friday, from 8:30 AM to 5:30 PM" in us
    assert "a month counts 30 days, a week 7 days, and a year 365 days;" in en
    assert "caps limit what a rule, a group of rules, or a score can give." in en
    assert "compare what a lead, an MQL, and a customer cost by channel." in en
    assert "(nights, weekends, and holidays included)" in en
    # Items that hold commas are separated by semicolons; French lists are untouched.
    en_typo = Typography("en")
    assert en_typo.list_and(["€2,400", "€6,000", "€30,000"]) == "€2,400; €6,000; and €30,000"
    assert en_typo.list_or(["1", "2", "3"]) == "1, 2, or 3"
    assert "Seuils figés : 2 400 €, 6 000 €, 12 000 € et 30 000 €." in fr
    assert "du lundi au jeudi" in fr


NESTED = """\
agreement "Imbrication" {
    locale fr
    currency EUR
}

lead {
    id  text  key
    a   int   "Taille de l’entreprise"
    b   int   "Budget annoncé"
    c   int   "Nombre de visites"
    d   int   "Durée de la visite"
    e   int   "Score manuel"
}

grade priority "Priorité" {
    p1 "Un" when (a >= 1 and b >= 1 and c >= 1 and d >= 1) or e >= 1
    p2 "Deux" when e >= 1 and (a >= 1 or b >= 1 or c >= 1 or d >= 1)
    p3 "Trois" otherwise
}
"""


def test_markdown_cells_keep_the_nesting_of_conditions(tmp_path: Path) -> None:
    path = tmp_path / "nested.leadrules"
    path.write_text(NESTED, encoding="utf-8")
    rs = check(path)
    assert rs.ok, rs.diagnostics
    fr, en = document(rs, "fr"), document(rs, "en")
    tab, sub = "<br>" + "&nbsp;" * 4 + "– ", "<br>" + "&nbsp;" * 8 + "– "
    assert ("| *Un* | Au moins une des conditions suivantes est remplie :"
            f"{tab}toutes les conditions suivantes sont remplies :"
            f"{sub}la taille de l’entreprise est d’au moins 1 ;{sub}le budget annoncé est d’au "
            f"moins 1 ;{sub}le nombre de visites est d’au moins 1 ;{sub}la durée de la visite est "
            f"d’au moins 1 ;{tab}le score manuel est d’au moins 1 |") in fr
    assert ("| *Deux* | Toutes les conditions suivantes sont remplies :"
            f"{tab}le score manuel est d’au moins 1 ;"
            f"{tab}au moins une des conditions suivantes est remplie :"
            f"{sub}la taille de l’entreprise est d’au moins 1 ;") in fr
    assert ("| *Un* | At least one of the following conditions is met:"
            f"{tab}all of the following conditions are met:{sub}") in en
    assert " — " not in fr.split("## ")[-2]


def test_labels_with_known_gender_read_naturally() -> None:
    rs = check(ACME) if ACME.exists() else None
    if rs is None:
        pytest.skip("rules/acme.leadrules is not there")
    assert say(rs, "fr", "industry in {saas, finance}") == \
        "Le secteur d’activité est Logiciel ou Services financiers"
    assert say(rs, "fr", "email is present") == "L’adresse e-mail est renseignée"


UNLABELLED = """\
agreement "Names" {
    locale en
    currency USD
}

lead {
    lead_id     text      key
    mql_at      datetime  from "Became an MQL"
    created_at  datetime
    closed_on   date
    utm_source  text
    industry    enum(software = "COMPUTER_SOFTWARE", retail = "RETAIL", other = "Other")
    opted_out   bool
}

segment picked {
    industry in {software, retail, other}
    utm_source == "google"
    not opted_out
}

stages {
    lead "Lead" when lead_id is present and picked
    mql  "MQL"  when mql_at is present
         entered at mql_at
}
"""


@pytest.fixture(scope="module")
def unlabelled(tmp_path_factory):
    path = tmp_path_factory.mktemp("names") / "names.leadrules"
    path.write_text(UNLABELLED, encoding="utf-8")
    rs = check(path)
    assert rs.ok, rs.diagnostics
    return rs


@pytest.mark.parametrize(("lang", "text", "expected"), [
    # English: a noun in words, abbreviations in capitals, a date field named as a date.
    ("en", "mql_at is missing", "The MQL date is missing"),
    ("en", "created_at is present", "The date created is filled in"),
    ("en", "closed_on is missing", "The date closed is missing"),
    ("en", "lead_id is present", "The lead ID is filled in"),
    ("en", 'utm_source == "google"', "The UTM source is “google”"),
    # Among export codes, RETAIL is a code too: the list reads alike.
    ("en", "industry in {software, retail, other}", "The industry is software, retail, or Other"),
    ("en", "opted_out", "The “opted out” field is “yes”"),
    # French cannot know the gender of an English name: it names the field, by the export
    # column the CRM shows when the rules give one, else by its identifier (as code: the
    # words of an identifier are English, or French without its accents).
    ("fr", "mql_at is missing", "Le champ « Became an MQL » n’est pas renseigné"),
    ("fr", "created_at is present", "Le champ created_at est renseigné"),
    ("fr", "lead_id is present", "Le champ lead_id est renseigné"),
    ("fr", 'utm_source == "google"', "Le champ utm_source est « google »"),
])
def test_names_without_a_label_read_as_words(unlabelled, lang: str, text: str,
                                             expected: str) -> None:
    assert say(unlabelled, lang, text) == expected


def test_names_without_a_label_in_the_document(unlabelled) -> None:
    text = render_markdown(unlabelled, on=ON)
    assert "### Picked" in text
    assert "The date the lead entered this stage is read from the “Became an MQL” field." in text
    for row in ("| Lead ID (unique key) | `lead_id` |", "| Became an MQL | `mql_at` |",
                "| Date created | `created_at` |", "| UTM source | `utm_source` |"):
        assert row in text
    # The appendix gives the values as the export spells them, letter for letter.
    assert "one of “COMPUTER\\_SOFTWARE”, “RETAIL”, and “Other”" in text
    assert "mql at" not in text and "created at" not in text


# ----------------------------------------------------------------------------- typography


def test_french_and_english_numbers() -> None:
    fr, en = Typography("fr"), Typography("en")
    assert fr.money(960000, "EUR") == f"960{NNBSP}000{NBSP}€"
    assert en.money(960000, "EUR") == "€960,000"
    assert fr.money("12.5", "EUR") == f"12,50{NBSP}€"
    assert fr.percent("0.025") == f"2,5{NBSP}%"
    assert en.percent("0.4") == "40%"
    assert fr.date(date(2027, 1, 1)) == f"1\u1d49\u02b3{NBSP}janvier{NBSP}2027"
    assert en.date(date(2027, 12, 31)) == f"December{NBSP}31,{NBSP}2027"
    assert fr.signed(-50) == "\u221250" and fr.signed(30) == "+30"


@pytest.mark.parametrize(("raw", "typeset"), [
    ("Note: oui ; non !", f"Note{NNBSP}: oui{NNBSP}; non{NNBSP}!"),
    ("« FR »", f"«{NNBSP}FR{NNBSP}»"),
    ("«FR»", f"«{NNBSP}FR{NNBSP}»"),
    ("09:00-18:00", "09:00-18:00"),
    ("http://example.org", "http://example.org"),
    ("a?b", "a?b"),
    ("Quoi ?", f"Quoi{NNBSP}?"),
])
def test_french_spacing(raw: str, typeset: str) -> None:
    assert french_spacing(raw) == typeset


# ----------------------------------------------------------------------------- messages


def test_every_message_exists_in_both_languages() -> None:
    # A message's plural or gender choices are the language's own (English has no gender):
    # the keys are what both files must share.
    fr, en = set(load("fr")), set(load("en"))
    assert sorted(fr - en) == [], "in fr.yaml but missing from en.yaml"
    assert sorted(en - fr) == [], "in en.yaml but missing from fr.yaml"


def _keys_used() -> set[str]:
    """Every literal message key the code and the templates ask for."""
    used: set[str] = set()
    for path in list((PACKAGE / "render").glob("*.py")) + [PACKAGE / "signing.py"]:
        text = path.read_text(encoding="utf-8")
        used.update(re.findall(r'(?:text|rich|has)\(\s*"([a-z_]+(?:\.[a-z_]+)+)"', text))
    for path in (PACKAGE / "render" / "templates").glob("*.j2"):
        used.update(re.findall(r't\("([a-z_.]+)"', path.read_text(encoding="utf-8")))
    return used


def _families() -> set[str]:
    """Keys built from a name at run time: every value the language allows."""
    keys = set()
    for period in ("day", "week", "month", "quarter", "year"):
        keys |= {f"period.per.{period}", f"period.every.{period}"}
    for unit in ("minutes", "hours", "days", "weeks", "months", "years"):
        for prefix in ("duration.", "duration.business.", "window.", "window.business.",
                       "delay."):
            keys.add(prefix + unit)
    for op in ("eq", "ne", "ge", "gt", "le", "lt"):
        keys |= {f"cond.cmp.num.{op}", f"cond.cmp.date.{op}", f"cond.stage.{op}",
                 f"grades.band.{op}"}
    for edge in ("ge_lt", "ge_le", "gt_lt", "gt_le", "le_gt", "le_ge", "lt_gt", "lt_ge"):
        keys.add(f"grades.range.{edge}")
    for split in ("terciles", "quartiles", "quintiles", "deciles"):
        keys |= {f"grades.split.{split}.name", f"grades.split.{split}.groups"}
    for op in ("contains", "starts_with", "ends_with", "matches"):
        keys |= {f"cond.text.{op}.yes", f"cond.text.{op}.no"}
    for kind in ("segment", "qualification", "criterion", "true", "presence", "within",
                 "in_list"):
        keys |= {f"cond.{kind}.yes", f"cond.{kind}.no"}
    keys |= {"sales.recycle.nurturing", "sales.recycle.other", "grammar.de.plain",
             "grammar.de.elided", "grammar.que.plain", "grammar.que.elided"}
    for unit in ("minutes", "hours", "days", "weeks", "months", "years"):
        for family in ("scores.each_period.", "scores.every_period."):
            keys |= {family + unit, family + "business." + unit}
    for key in ("missing", "between", "text", "months", "rounding", "decay", "business"):
        keys.add(f"conventions.{key}")
    for which in ("the", "of_the", "bare", "each", "no"):
        keys |= {f"grammar.{which}.m", f"grammar.{which}.f", f"grammar.{which}.elided"}
    for section in ("preamble", "conventions", "definitions", "scores", "grades",
                    "qualification", "lifecycle", "routing", "marketing", "sales", "channels",
                    "review", "signatures", "data"):
        keys.add(f"section.{section}")
    for noun in ("domain", "score", "grade", "criteria_count", "stage", "route", "truth",
                 "count", "sum_of_field", "days_since"):
        keys |= {f"noun.{noun}.text", f"noun.{noun}.of", f"noun.{noun}.gender"}
    keys |= {"noun.sum.text", "noun.sum.of", "cond.count.none"}
    for op in ("eq", "ne", "ge", "gt", "le"):
        keys |= {f"cond.count.one.{op}", f"cond.count.several.{op}", f"cond.since.{op}"}
    keys |= {"cond.count.several.lt", "cond.since.lt", "cond.present_and.is.ne",
             "grammar.to_date", "grammar.the_date", "grammar.to_the.m", "grammar.to_the.f",
             "grammar.to_the.elided"}
    for op in ("ne", "gt", "lt"):
        keys.add(f"cond.present_and.num.{op}")
    keys |= {"cond.present_and.date.gt", "cond.present_and.date.lt", "grades.cuts_of",
             "grades.days", "calendar.zone.city", "calendar.zone.id", "grades.otherwise_band"}
    return keys


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_the_code_uses_is_in_the_messages(lang: str) -> None:
    known = set(load(lang))
    used = _keys_used() | _families()
    assert len(used) > 150
    missing = sorted(k for k in used if k not in known)
    assert missing == [], f"missing from {lang}.yaml"


# ----------------------------------------------------------------------------- escaping

HOSTILE = '<script>alert(1)</script>'


def hostile_rules(tmp_path: Path) -> Path:
    text = REFERENCE.read_text(encoding="utf-8")
    text = text.replace('"Profil client idéal"', f'"{HOSTILE}"')
    text = text.replace('"Décideur"', '"**bold** | pipe & <b>x</b>"')
    text = text.replace('version "2027.1"', 'version "1\\" onload=\\"alert(2)"')
    path = tmp_path / "hostile.leadrules"
    path.write_text(text, encoding="utf-8")
    return path


def test_text_from_the_rules_is_escaped_in_html(tmp_path: Path) -> None:
    rs = check(hostile_rules(tmp_path))
    assert rs.ok, rs.diagnostics
    html = render_html(rs, on=ON)
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>x</b>" not in html and 'onload="alert' not in html
    canonical = re.search(r'id="leadrules-canonical">(.*?)</script>', html, re.S).group(1)
    assert "<" not in canonical
    assert json.loads(canonical)["items"]


def test_text_from_the_rules_is_escaped_in_markdown(tmp_path: Path) -> None:
    md = render_markdown(check(hostile_rules(tmp_path)), on=ON)
    assert HOSTILE not in md and "\\<script\\>" in md
    assert "\\*\\*bold\\*\\* \\| pipe \\& \\<b\\>x\\</b\\>" in md
    assert seal.check_text(md)[1]


# ----------------------------------------------------------------------------- command line


def test_cli_renders_html_and_markdown(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "accord.html"
    result = runner.invoke(main, ["render", str(REFERENCE), "-o", str(out), "--date",
                                  "2027-01-01"])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == render_html(check(REFERENCE), on=ON)
    assert [p.name for p in tmp_path.iterdir()] == ["accord.html"]  # no temporary file left
    result = runner.invoke(main, ["render", str(REFERENCE), "--format", "md", "--lang", "en",
                                  "--date", "2027-01-01"])
    assert result.exit_code == 0
    assert "# Accord Smarketing Acme 2027" in result.output
    assert "Marketing commits to delivering at least" in result.output


def test_cli_refuses_a_bad_date_and_broken_rules(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["render", str(REFERENCE), "--date", "01/02/2027"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output
    broken = tmp_path / "broken.leadrules"
    broken.write_text("segment x {\n  nonsense >= \n}\n", encoding="utf-8")
    result = runner.invoke(main, ["render", str(broken), "-o", str(tmp_path / "x.html")])
    assert result.exit_code == 1
    assert not (tmp_path / "x.html").exists()
    assert "Traceback" not in result.output


# ----------------------------------------------------------------------------- the document's wording


def document(rs, lang: str) -> str:
    """The Markdown agreement in `lang`, with its non-breaking spaces read as spaces."""
    return render_markdown(rs, lang=lang, on=ON).replace(NNBSP, " ").replace(NBSP, " ")


@pytest.fixture(scope="module")
def acme():
    if not ACME.exists():
        pytest.skip("rules/acme.leadrules is not there")
    rs = check(ACME)
    assert rs.ok, rs.diagnostics
    return rs


def test_frozen_quintiles_say_the_cut_points_no_longer_move(acme) -> None:
    fr, en = document(acme, "fr"), document(acme, "en")
    assert ("Les seuils ci-dessous ont été calculés comme des quintiles (cinq groupes de même "
            "taille) sur une population de référence, puis figés : la note d’un lead ne dépend "
            "que du nombre d’*achats* au cours des 365 derniers jours, et non des "
            "autres leads.") in fr
    assert ("The cut points below were computed as quintiles (five groups of equal size) on a "
            "reference population, then frozen: a lead’s grade depends only on the number of "
            "*Achat* events in the last 365 days, not on other leads.") in en
    assert "groupes de même taille (quintiles) selon" not in fr


def test_quintiles_without_cut_points_depend_on_the_batch(reference) -> None:
    assert ("répartis en cinq groupes de même taille (quintiles) selon le nombre d’*achats* "
            "au cours des 365 derniers jours. Les limites des groupes sont recalculées "
            "à chaque notation : la note d’un lead dépend donc des autres leads notés en même "
            "temps.") in document(reference, "fr")
    assert ("The group limits are computed again at each scoring: a lead’s grade therefore "
            "depends on the other leads scored at the same time.") in document(reference, "en")


def test_a_delay_without_business_says_it_is_clock_time(acme) -> None:
    fr, en = document(acme, "fr"), document(acme, "en")
    assert ("ce premier contact a lieu dans un délai de 30 minutes calendaires (nuits, "
            "week-ends et jours fériés compris) après le passage du lead") in fr
    assert ("this first contact takes place within 30 calendar minutes (nights, weekends, "
            "and holidays included) of the lead entering") in en
    # A business delay keeps its own words.
    assert "dans un délai de 4 heures ouvrées après" in fr
    assert "within 4 business hours of" in en


def test_recycling_says_from_when_the_days_count_and_what_nurturing_is(acme) -> None:
    assert ("Un lead parvenu à l’étape *Lead qualifié marketing (MQL)* qui n’a pas atteint "
            "l’étape *Opportunité* 90 jours calendaires après son dernier changement d’étape est "
            "rendu au marketing, qui le relance par des contenus adaptés (*nurturing*).") \
        in document(acme, "fr")
    assert ("A lead at the *Lead qualifié marketing (MQL)* stage or beyond that has not reached "
            "the *Opportunité* stage 90 calendar days after its latest stage change goes back to "
            "marketing, which keeps in touch with content suited to the lead (*nurturing*).") \
        in document(acme, "en")


def test_linear_decay_halflife_and_the_boundary_in_words(acme) -> None:
    fr, en = document(acme, "fr"), document(acme, "en")
    assert ("Chaque période complète de 30 jours écoulée depuis un événement retire 50 % de ses "
            "points initiaux : ils comptent en entier pendant 30 jours et sont nuls à partir de "
            "60 jours d’ancienneté. Pour une règle « il y a eu … au cours des … derniers jours "
            "», la diminution se calcule sur l’événement le plus récent. Les règles qui portent "
            "sur les informations du lead ne diminuent pas.") in fr
    assert ("Each full period of 30 days since an event removes 50% of its initial points: they "
            "count in full for 30 days and are worth nothing once the event is 60 days old.") in en
    assert ("La valeur des points d’un événement est divisée par deux tous les 14 jours, de "
            "façon continue (demi-vie de 14 jours).") in fr
    assert ("The value of an event’s points is halved every 14 days, continuously (a half-life "
            "of 14 days).") in en
    assert "au-delà de" not in fr and "after 60 days" not in en


DECAY_WITHOUT_WITHIN = """\
agreement "Décroissance" {
    locale fr
    currency EUR
}

lead {
    id  text  key
}

event visit "Visite"

score heat "Chaleur" decay 25% every 1 week {
    +10 per visit
}
"""


def test_decay_by_the_most_recent_event_only_when_a_rule_uses_one(tmp_path: Path) -> None:
    path = tmp_path / "decay.leadrules"
    path.write_text(DECAY_WITHOUT_WITHIN, encoding="utf-8")
    rs = check(path)
    assert rs.ok, rs.diagnostics
    fr, en = document(rs, "fr"), document(rs, "en")
    assert ("Chaque semaine complète écoulée depuis un événement retire 25 % de ses points "
            "initiaux") in fr
    assert "sont nuls à partir de 4 semaines d’ancienneté" in fr
    assert "Each full week since an event removes 25% of its initial points" in en
    assert "plus récent" not in fr and "most recent" not in en


def test_the_reading_convention_on_missing_values_holds_for_or(reference) -> None:
    assert ("une information absente du CRM est inconnue : une condition simple qui porte sur "
            "elle n’est pas remplie, même à la forme négative (sauf « n’est pas renseigné ») ; "
            "en revanche, une condition « A ou B », ou « au moins une des conditions suivantes "
            "», est remplie dès qu’une autre de ses conditions l’est ;") in document(reference, "fr")
    assert ("a simple condition about it is not met, even in the negative (except “is missing”); "
            "however, a condition “A or B”, or “at least one of the following conditions”, is "
            "met as soon as another of its conditions is;") in document(reference, "en")


def test_crm_values_are_the_literal_export_spellings(reference) -> None:
    fr, en = document(reference, "fr"), document(reference, "en")
    # source = enum(seo, sea, …) has no spellings: the export holds "seo", not "SEO".
    assert "| *Référencement naturel* | seo | 2 000 € par mois | 24 000 € |" in fr
    assert "| *Référencement naturel* | seo | €2,000 per month | €24,000 |" in en
    assert ("une valeur parmi « Software », « Financial Services », « retail », « industry » et "
            "« public »") in fr
    assert "one of “Software”, “Financial Services”, “retail”, “industry”, and “public”" in en
    assert "SEO" not in fr.split("## ")[-1]


ODD = """\
agreement "Cas particuliers" {
    locale fr
    currency EUR
}

calendar business {
    hours mon-fri 09:00-18:00
}

lead {
    id         text  key
    email      text  "Adresse e-mail"
    seniority  int   "Ancienneté du contact (années)"
    size       int   "Taille de l’entreprise"
    mql_at     datetime  "Date de passage en MQL"
}

event call "Appel"
event visit "Visite"

score fit "Adéquation" {
    +1 per 1 of seniority  "Ancienneté"
    +5 when size >= 50     "Taille"
}

grade temperature "Température" by fit {
    hot "Chaud" when >= 5
    cold "Froid" otherwise
}

stages {
    lead "Lead" when email is present
    mql  "MQL"  when fit >= 5
         entered at mql_at
}

sla sales "Engagements des ventes" {
    calendar business
    touches call
    first touch within 1 business hours of mql
    first touch within 1 minutes of mql when temperature == hot and size >= 500
    first touch within 2 hours of mql when temperature == hot and visit within 7 days
    attempts at least 3 within 1 business days of mql
    recycle to nurturing after 1 days without mql
}
"""


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    path = tmp_path_factory.mktemp("odd") / "odd.leadrules"
    path.write_text(ODD, encoding="utf-8")
    rs = check(path)
    assert rs.ok, rs.diagnostics
    return rs


def test_per_unit_agrees_with_a_feminine_label(odd) -> None:
    assert "L’ancienneté du contact (années), comptée par tranche complète de 1" \
        in document(odd, "fr")
    assert "The ancienneté du contact (années), counted in full blocks of 1" in document(odd, "en")


def test_the_number_one_is_written_out_with_elision(odd) -> None:
    fr, en = document(odd, "fr"), document(odd, "en")
    assert "avec chaque lead dans un délai d’une heure ouvrée après son passage" in fr
    assert "dans un délai d’une minute calendaire (nuits, week-ends et jours fériés compris)" in fr
    assert "au moins 3 tentatives de contact dans un délai d’un jour ouvré après" in fr
    assert "qui n’a pas atteint l’étape *MQL* un jour calendaire après" in fr
    assert "dans un délai de 1" not in fr
    assert "within 1 business hour of the lead entering" in en


def test_a_when_clause_repeats_que(odd) -> None:
    fr, en = document(odd, "fr"), document(odd, "en")
    assert ("Lorsque la note *Température* est *Chaud* et que la taille de l’entreprise est "
            "d’au moins 500, ce premier contact") in fr
    assert ("Lorsque la note *Température* est *Chaud* et qu’il y a eu une *visite* au cours "
            "des 7 derniers jours, ce premier contact") in fr
    assert ("When the *Température* grade is *Chaud* and the taille de l’entreprise is at least "
            "500, this first contact") in en


def test_marketing_commitments_count_leads_and_abbreviated_stages(acme, tmp_path: Path) -> None:
    fr, en = document(acme, "fr"), document(acme, "en")
    assert "**Le marketing s’engage à livrer au moins 450 leads par mois.**" in fr
    assert "**Le marketing s’engage à livrer au moins 90 MQL par mois.**" in fr
    assert "**Marketing commits to delivering at least 450 leads per month.**" in en
    assert "**Marketing commits to delivering at least 90 MQLs per month.**" in en
    # A stage label without an abbreviation is named.
    path = tmp_path / "chaud.leadrules"
    path.write_text(REFERENCE.read_text(encoding="utf-8").replace(
        '"Lead qualifié marketing (MQL)"', '"Lead chaud"'), encoding="utf-8")
    rs = check(path)
    assert "au moins 70 leads à l’étape *Lead chaud* par mois." in document(rs, "fr")
    assert "at least 70 leads at the *Lead chaud* stage per month." in document(rs, "en")


def test_a_field_without_a_label_is_named_by_its_column_or_its_identifier(unlabelled) -> None:
    fr, en = document(unlabelled, "fr"), document(unlabelled, "en")
    # The export column when the rules give one, in the appendix as in the body.
    assert "| Became an MQL | `mql_at` |" in fr and "| Became an MQL | `mql_at` |" in en
    # Else, in French, the identifier as code, never its English or accent-less words.
    assert "| `created_at` | `created_at` |" in fr
    assert "| `utm_source` | `utm_source` |" in fr
    assert "Date created" not in fr and "UTM source" not in fr
    assert "le champ `utm_source` est « google »" in fr
    assert "| Date created | `created_at` |" in en


def test_markdown_commitments_are_separate_paragraphs(acme) -> None:
    fr, en = document(acme, "fr"), document(acme, "en")
    assert ("Cet engagement couvre le besoin calculé (445 par mois).\n\n"
            "**Le marketing s’engage à livrer au moins 90 MQL par mois.**") in fr
    assert ("This commitment covers the computed need (445 per month).\n\n"
            "**Marketing commits to delivering at least 90 MQLs per month.**") in en


EVENTS = """\
agreement "Événements" {
    locale LOCALE
    currency EUR
}

lead {
    id  text  key
}

event pricing_page_visit "LABEL_VISIT"
event email_bounced "LABEL_BOUNCE"
event bounce_hard "Hard bounce"
event purchase "LABEL_PURCHASE" {
    amount  money  "LABEL_AMOUNT"
}
"""


def events_rules(tmp_path: Path, locale: str) -> object:
    labels = {"fr": ("Visite de la page Tarifs", "E-mail rejeté", "Achat", "Montant hors taxes"),
              "en": ("Pricing page visit", "Email bounced", "Purchase", "Amount excluding tax")}
    text = EVENTS.replace("LOCALE", locale)
    for key, label in zip(("LABEL_VISIT", "LABEL_BOUNCE", "LABEL_PURCHASE", "LABEL_AMOUNT"),
                          labels[locale], strict=True):
        text = text.replace(key, label)
    path = tmp_path / f"events-{locale}.leadrules"
    path.write_text(text, encoding="utf-8")
    rs = check(path)
    assert rs.ok, rs.diagnostics
    return rs


@pytest.mark.parametrize(("lang", "text", "expected"), [
    ("fr", "count(pricing_page_visit within 30 days) >= 3",
     "Il y a eu au moins 3 visites de la page Tarifs au cours des 30 derniers jours"),
    ("fr", "count(pricing_page_visit) == 0", "Il n’y a eu aucune visite de la page Tarifs"),
    ("fr", "count(pricing_page_visit) < 1", "Il n’y a eu aucune visite de la page Tarifs"),
    ("fr", "count(pricing_page_visit) > 0", "Il y a eu au moins une visite de la page Tarifs"),
    ("fr", "count(pricing_page_visit) > 1", "Il y a eu plus d’une visite de la page Tarifs"),
    ("fr", "count(pricing_page_visit within 7 days) < 2",
     "Il y a eu moins de 2 visites de la page Tarifs au cours des 7 derniers jours"),
    ("fr", "count(email_bounced) >= 2", "Il y a eu au moins 2 e-mails rejetés"),
    ("fr", "count(email_bounced) == 0", "Il n’y a eu aucun e-mail rejeté"),
    ("fr", "count(bounce_hard) >= 2", "Il y a eu au moins 2 événements Hard bounce"),
    ("fr", "sum(purchase.amount within 365 days) >= 20_000 EUR",
     "Le montant hors taxes cumulé des achats au cours des 365 derniers jours est d’au moins "
     "20 000 €"),
    ("fr", "days since last purchase > 365", "Le dernier achat remonte à plus de 365 jours"),
    ("fr", "days since last pricing_page_visit < 1",
     "La dernière visite de la page Tarifs remonte à moins d’un jour"),
    ("en", "count(pricing_page_visit within 30 days) >= 3",
     "There were at least 3 pricing page visits in the last 30 days"),
    ("en", "count(pricing_page_visit) == 0", "There was no pricing page visit"),
    ("en", "count(pricing_page_visit) >= 1", "There was at least one pricing page visit"),
    ("en", "count(email_bounced) >= 2", "There were at least 2 emails bounced"),
    ("en", "sum(purchase.amount within 365 days) >= 20_000 EUR",
     "The total amount excluding tax of purchases in the last 365 days is at least €20,000"),
    ("en", "days since last purchase > 365", "The last purchase was more than 365 days ago"),
])
def test_counts_and_sums_of_events_read_as_what_happened(tmp_path: Path, lang: str, text: str,
                                                         expected: str) -> None:
    assert say(events_rules(tmp_path, lang), lang, text) == expected


def test_events_counted_in_the_document(acme) -> None:
    fr, en = document(acme, "fr"), document(acme, "en")
    assert ("| *Priorité 3* | Il y a eu au moins 3 *visites de la page Tarifs* au cours des 30 "
            "derniers jours |") in fr
    assert ("le montant hors taxes cumulé des *achats* au cours des 365 derniers jours est "
            "d’au moins 20 000 €") in fr
    assert "La note dépend du nombre de jours écoulés depuis le dernier *achat* ;" in fr
    assert "ne dépend que du nombre d’*achats* au cours des 365 derniers jours" in fr
    assert "événements *Achat*" not in fr and "nombre d’événements" not in fr
    assert ("There were at least 3 *Visite de la page Tarifs* events in the last 30 days") in en


def test_english_plural_labels_are_named_as_fields(tmp_path: Path) -> None:
    path = tmp_path / "plural.leadrules"
    path.write_text(REFERENCE.read_text(encoding="utf-8").replace(
        '"Taille de l\'entreprise"', '"Visits to the website"'), encoding="utf-8")
    rs = check(path)
    assert rs.ok, rs.diagnostics
    assert say(rs, "en", "company_size >= 5") == "The “Visits to the website” field is at least 5"
    # A singular label, or one whose "s" is not a plural, keeps its own words.
    assert say(rs, "en", "budget >= 10_000 EUR") == "The budget is at least €10,000"
    assert say(rs, "fr", "company_size >= 5").startswith("Le champ « Visits to the website »")
