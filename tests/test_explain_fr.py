"""`leadrules explain` in the agreement's language: French words, figures and conditions for a
`locale fr` agreement, English with --lang en, and the message files of both languages."""

from __future__ import annotations

import csv
import json
from importlib.resources import files
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from leadrules.cli import main
from leadrules.render.messages import flatten, is_choice

ROOT = Path(__file__).resolve().parents[1]
ACME = str(ROOT / "rules" / "acme.leadrules")
ACME_EN = str(ROOT / "rules" / "acme-en.leadrules")
LEAD = str(ROOT / "examples" / "lead.json")
AS_OF = "2027-03-01T10:00"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["explain", *args], catch_exceptions=False)
    # French spacing (narrow and ordinary no-break spaces) read as spaces, to keep asserts legible.
    return result.exit_code, result.output.replace("\u202f", " ").replace("\u00a0", " ")


@pytest.fixture(scope="module")
def french() -> str:
    code, out = run(ACME, LEAD, "--as-of", AS_OF, "--why-not", "sql")
    assert code == 0, out
    return out


def test_a_french_agreement_is_explained_in_french(french: str) -> None:
    assert french.startswith("Lead anne@acme.fr, évalué le 1ᵉʳ mars 2027 à 10 h (Europe/Paris)\n")
    assert "Adéquation au profil : 50\n" in french
    assert "   +30  Dans le profil client idéal  [rules/acme.leadrules:115]" in french
    # Decimal commas, to the cent; the decayed points say what they were before decay.
    assert "Engagement : 42,5\n" in french
    assert "  +2,5  Webinaires suivis (1 événement ; +5 avant dépréciation : une activité " \
           "ancienne compte moins)" in french
    assert "Intention d’achat : 47,49\n" in french
    assert "+47,49  Démo demandée dans le mois (+50 avant dépréciation" in french
    assert "Score global : 47,5  = 0,5 × Adéquation au profil + 0,25 × (Engagement + " \
           "Intention d’achat)" in french


def test_a_rule_not_counted_names_the_missing_value_by_its_label(french: str) -> None:
    assert "     0  Budget confirmé : non compté, on ne sait pas si le budget annoncé est " \
           "d’au moins 10 000 €, car le budget annoncé n’est pas renseigné  " \
           "[rules/acme.leadrules:117]" in french
    # A feminine field agrees: « la fonction n'est pas renseignée ».
    assert "on ne sait pas si la fonction contient « étudiant », car la fonction n’est pas " \
           "renseignée" in french
    assert "le domaine de l’adresse e-mail figure dans la liste messageries gratuites : non, " \
           "le domaine de l’adresse e-mail est acme.fr" in french


def test_grades_qualification_stage_and_route_in_french(french: str) -> None:
    assert "Note d’adéquation : B\n" in french
    assert "Température : Tiède (warm)\n" in french
    assert "BANT : inconnu (2 critères remplis sur 4, il en faut 3)\n" in french
    assert "  inconnu  Budget\n      oui  Autorité\n" in french
    assert "Étape : Lead qualifié marketing (MQL)\n" in french
    assert "  pas encore Lead qualifié commercial (SQL) : on ne sait pas si le lead est " \
           "qualifié selon BANT (2 critères remplis sur 4, il en faut 3 ; Budget : " in french
    assert "Affectation : Équipe PME\n" in french


def test_why_not_in_french(french: str) -> None:
    why = french[french.index("Pourquoi pas sql ?"):]
    assert why.splitlines()[1:3] == [
        "Pas Lead qualifié commercial (SQL).",
        "L’étape Lead qualifié commercial (SQL) est atteinte lorsque le lead est qualifié "
        "selon BANT. Cette condition est inconnue :"]
    assert "Calendrier : le statut du lead est En relation ou Qualifié : non, le statut du " \
           "lead est Nouveau" in why
    assert "l’échéance du contrat chez le fournisseur actuel est antérieure ou égale au 31 décembre 2027" \
           in why


@pytest.mark.parametrize(("target", "expected"), [
    ("hot", "Pas Chaud (hot) : cette ligne s’applique lorsque le score Engagement est d’au "
            "moins 60 (le score Engagement est de 42,5)."),
    ("cold", "Température : Tiède (warm) (le score Engagement est de 42,5). La ligne Tiède "
             "(warm) s’applique lorsque le score Engagement est d’au moins 25 ; elle vient "
             "avant, et la première ligne qui s’applique l’emporte."),
    ("priority.p1", "(la note d’adéquation est A et la note Température est Chaud) ou le score "
                    "global est d’au moins 60. Ce n’est pas le cas :\n"
                    "- la note d’adéquation est A : non, la note d’adéquation est B\n"),
    ("lead", "Le lead a atteint l’étape Lead (il est à l’étape Lead qualifié marketing (MQL))."),
    ("disqualified", "Le lead n’est pas disqualifié : aucune disqualification ne s’applique.\n"
                     "- on ne sait pas si le lead appartient au segment Contacts exclus ("),
    ("frequency.q5", "Fréquence : q1 (le nombre d’achats au cours des 365 derniers "
                     "jours est de 0). Cette note découpe les leads notés ensemble en quintiles"),
])
def test_why_not_grades_and_stages_in_french(target: str, expected: str) -> None:
    code, out = run(ACME, LEAD, "--as-of", AS_OF, "--why-not", target)
    assert code == 0
    assert expected in out[out.index("Pourquoi pas"):]


def test_an_event_outside_its_window_says_when_it_happened() -> None:
    code, out = run(ACME, LEAD, "--as-of", "2027-03-20T10:00", "--why-not", "mql")
    assert code == 0
    assert "- il y a eu une demande de démo au cours des 7 derniers jours : non, la dernière " \
           "demande de démo date du 28 février 2027 à 9 h\n" in out
    assert "- le score Engagement est d’au moins 25 : non, le score Engagement est de 2,5\n" in out


def test_a_disqualified_lead_and_a_capped_score_in_french(tmp_path: Path) -> None:
    lead = tmp_path / "lead.json"
    lead.write_text(json.dumps({
        "E-mail": "contact@gmail.com", "Nombre d'employés": 5, "Statut du lead": "Nouveau",
        "Budget annoncé": 12000,
        "events": [{"type": "webinar_attended", "at": "2027-01-20T14:00"},
                   {"type": "webinar_attended", "at": "2027-02-20T14:00"}]}), encoding="utf-8")
    code, out = run(ACME, str(lead), "--as-of", AS_OF, "--why-not", "mql")
    assert code == 0
    assert "   −50  Contact exclu  [rules/acme.leadrules:121]" in out
    assert "        le score est plafonné à 0 (ses règles donnent −40)\n" in out
    assert "(2 événements ; +10 avant dépréciation" in out
    assert "Étape : disqualifié (Contact exclu du parcours ; Entreprise trop petite)\n" in out
    assert "Le lead est disqualifié (Contact exclu du parcours ; Entreprise trop petite), quoi " \
           "qu’il en soit par ailleurs." in out


def test_a_name_that_is_no_stage_or_grade_is_told_in_french() -> None:
    code, out = run(ACME, LEAD, "--why-not", "sqll")
    assert code == 2
    assert out == "error: --why-not sqll: « sqll » n’est ni une étape ni une note de ces " \
                  "règles ; vouliez-vous dire « sql » ?\n"
    code, out = run(ACME, LEAD, "--why-not", "fit_grade.E")
    assert code == 2 and "fit_grade n’a pas de ligne « E » (ses lignes sont A, B, C, D)" in out


def test_lang_en_gives_the_english_breakdown() -> None:
    code, out = run(ACME, LEAD, "--as-of", AS_OF, "--why-not", "sql", "--lang", "en")
    assert code == 0
    assert out.startswith("Lead anne@acme.fr, evaluated on 2027-03-01 10:00 (Europe/Paris)\n")
    assert "Engagement: 42.5\n" in out
    assert "     0  Budget confirmé: not counted, budget >= 10_000 EUR is unknown: budget is " \
           "missing  [rules/acme.leadrules:117]" in out
    assert "  +2.5  Webinaires suivis (1 event; +5 before decay: older activity counts less)" \
           in out
    assert "Why not sql?\nNot Lead qualifié commercial (SQL).\nLead qualifié commercial (SQL) " \
           "needs bant, which is unknown:\n" in out


def test_the_default_language_is_the_agreements_locale() -> None:
    _, english = run(ACME_EN, LEAD, "--as-of", AS_OF)
    _, asked = run(ACME_EN, LEAD, "--as-of", AS_OF, "--lang", "en")
    assert english == asked and ", evaluated on " in english
    _, french = run(ACME_EN, LEAD, "--as-of", AS_OF, "--lang", "fr")
    assert ", évalué le " in french and "not counted" not in french


def test_json_keeps_the_words_of_the_rules() -> None:
    _, default = run(ACME, LEAD, "--as-of", AS_OF, "--why-not", "sql", "--format", "json")
    _, english = run(ACME, LEAD, "--as-of", AS_OF, "--why-not", "sql", "--format", "json",
                     "--lang", "en")
    assert default == english
    why = json.loads(default)["why_not"]
    assert why["condition"] == "bant" and why["text"].startswith("Not Lead qualifié commercial")


ENGLISH_WORDS = (" is unknown", "does not hold", " holds", "not counted", " is missing",
                 "criteria", "Stage:", "Route:", "Why not", " needs ", " >= ", "_000")


def test_no_english_and_no_rule_syntax_in_french_explanations(tmp_path: Path) -> None:
    """Every lead of the example export, every kind of --why-not: French words only."""
    with open(ROOT / "examples" / "acme-leads.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:8]
    targets = ["mql", "sql", "opportunity", "disqualified", "hot", "fit_grade.A", "p1",
               "recency.r3"]
    for i, row in enumerate(rows):
        lead = tmp_path / f"lead{i}.json"
        lead.write_text(json.dumps({k: v for k, v in row.items() if v}), encoding="utf-8")
        for target in targets:
            code, out = run(ACME, str(lead), "--as-of", AS_OF, "--why-not", target)
            assert code in (0, 1), out
            text = "\n".join(line for line in out.splitlines()
                             if not line.startswith("warning:"))
            for word in ENGLISH_WORDS:
                assert word not in text, (i, target, word, text)


def _messages(lang: str) -> dict[str, object]:
    path = files("leadrules.explaining").joinpath("messages").joinpath(f"{lang}.yaml")
    return flatten(yaml.safe_load(path.read_text("utf-8")))


def test_every_message_is_in_both_languages() -> None:
    en, fr = _messages("en"), _messages("fr")
    assert sorted(en) == sorted(fr)
    for key in en:
        for lang, value in (("en", en[key]), ("fr", fr[key])):
            assert isinstance(value, str) or is_choice(value), (lang, key, value)
