"""Conditions and values of a checked ruleset -> sentences in the agreement's language.

`Phrasing.cond(c)` gives a `CondNode`: a leaf sentence ("la taille de l’entreprise est comprise
entre 50 et 1 000"), or an "all of"/"any of" list of nodes. Negations are pushed down to the
leaves (De Morgan holds in the three-valued logic of the rules), so `not (a or b)` reads
"not a and not b". The words come from the message files; this module only assembles them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from leadrules import ast, calendars
from leadrules.model import (
    CRITERION,
    EMAIL_DOMAIN,
    EVENT_PROPERTY,
    FIELD,
    GRADE,
    QUALIFICATION,
    QUALIFICATION_COUNT,
    ROUTE,
    SCORE,
    SEGMENT,
    STAGE,
    Ruleset,
    Symbol,
)
from leadrules.render.messages import Messages
from leadrules.render.typography import CODE, FIGURE, QUOTE, TERM, TEXT, Rich

_INVERSE = {"==": "!=", "!=": "==", ">=": "<", "<": ">=", ">": "<=", "<=": ">"}
_OP_KEY = {"==": "eq", "!=": "ne", ">=": "ge", ">": "gt", "<=": "le", "<": "lt"}
_NUMERIC = {"int", "number", "money", "percent"}
# A flat "and"/"or" of at most this many simple conditions reads well on one line.
_INLINE_MAX = 3


def _compound(c) -> bool:
    if isinstance(c, ast.Between):
        return True
    if isinstance(c, ast.In):
        return isinstance(c.options, ast.SetLit) and len(c.options.items) > 1
    return False


# Abbreviations that a name without a label spells in lower case and people read in capitals
# (mql_at -> "MQL …", lead_id -> "lead ID"). Words of either language are left out (champ, sea).
ACRONYMS = frozenset("""
    id mql sql sal crm erp url utm ip b2b b2c saas icp kpi roi api vat tva ceo cto cfo cmo coo
    vp sms seo nps arr mrr sku rfm bant siret siren gdpr rgpd
""".split())
_CODE_SPELLING = re.compile(r"[A-Z0-9]+(_[A-Z0-9]+)+")
_CAPITALS = re.compile(r"[A-Z][A-Z0-9]{3,}")


def _effective(c, negated: bool):
    """A condition under its `not`s: the innermost condition and whether it is negated."""
    while isinstance(c, ast.Not):
        c, negated = c.item, not negated
    return c, negated


def _effective_op(c, negated: bool) -> str | None:
    """The operator a comparison of a field with one value really applies, else None."""
    if isinstance(c, ast.Compare) and isinstance(c.left, ast.Ref) \
            and not isinstance(c.right, ast.SetLit):
        return _INVERSE[c.op] if negated else c.op
    return None


def _same_ref(a, b) -> bool:
    return isinstance(a, ast.Ref) and isinstance(b, ast.Ref) and a.parts == b.parts


def humanise(name: str) -> str:
    """company_size -> company size, mql_at -> MQL at (a name without a label, shown to
    people): words apart, known abbreviations in capitals."""
    words = [w for w in re.split(r"[_.]+", name) if w]
    return " ".join(w.upper() if w.lower() in ACRONYMS else w for w in words)


def member_text(member: ast.EnumMember, members: tuple[ast.EnumMember, ...] = ()) -> str:
    """How people see an enum member: its export spelling ("Logiciel"), unless that spelling
    is a code (COMPUTER_SOFTWARE), then the member's name in words. Among members spelt as
    codes, a one-word spelling in capitals (RETAIL) is a code too: the list reads alike."""
    spelling = member.spellings[0] if member.spellings else None
    if spelling is None or _CODE_SPELLING.fullmatch(spelling):
        return humanise(member.name)
    coded = any(m.spellings and _CODE_SPELLING.fullmatch(m.spellings[0]) for m in members)
    if coded and _CAPITALS.fullmatch(spelling):
        return humanise(member.name)
    return spelling


def export_spelling(member: ast.EnumMember) -> str:
    """The value the CRM export holds for an enum member: its first spelling in the rules,
    else its name (what a filter in the CRM must match, letter for letter)."""
    return member.spellings[0] if member.spellings else member.name


@dataclass(frozen=True)
class Noun:
    """A noun phrase: `bare` without determiner ("taille de l’entreprise"), its grammatical
    gender (m/f), whether it elides a French article (l’, d’), and `fixed`: the whole phrase,
    determiner included, when a message gives it ("le score Engagement")."""

    bare: Rich
    gender: str = "m"
    elided: bool = False
    fixed: Rich | None = None
    fixed_of: Rich | None = None


@dataclass
class CondNode:
    """A condition in words. A leaf has `text`; a group has `mode` ("all" or "any") and
    `items`. `line` and `children` are set by `finish()` for display (capital, punctuation)."""

    text: Rich | None = None
    mode: str | None = None
    items: list[CondNode] = field(default_factory=list)
    # The leaf's sentence has its own "and"/"or" (a list of values, a range): joined to
    # others on one line it would be ambiguous, so its group is laid out as a list.
    compound: bool = False
    line: Rich = Rich()
    children: list[CondNode] = field(default_factory=list)

    @property
    def is_leaf(self) -> bool:
        return self.text is not None

    @property
    def inlinable(self) -> bool:
        return self.is_leaf or (len(self.items) <= _INLINE_MAX and all(
            item.is_leaf and not item.compound for item in self.items))


class Phrasing:
    """Sentences about one ruleset in one language."""

    def __init__(self, rs: Ruleset, messages: Messages) -> None:
        self.rs = rs
        self.m = messages
        self.typo = messages.typo
        self.gendered = bool(self.m.rich("grammar.gendered").plain.strip() == "yes")
        self._genders = self._gender_table()

    # ------------------------------------------------------------------ words and nouns

    def words(self, text: str) -> str:
        return self.typo.words(text)

    def term(self, text: str) -> Rich:
        """The name of something the agreement defines, in italics."""
        return Rich([(TERM, self.words(text))])

    def quoted(self, text: str) -> Rich:
        return Rich([(QUOTE, self.typo.quote(text))])

    def label_of(self, node, name: str | None = None) -> str:
        """A definition's label, else its humanised name."""
        label = getattr(node, "label", None)
        return label if label else humanise(name or getattr(node, "name", ""))

    def _gender_table(self) -> dict[str, str]:
        table: dict[str, str] = {}
        if not self.gendered:
            return table
        for gender in ("m", "f"):
            for word in self.m.text("grammar.words", gender=gender).split():
                table[word] = gender
        return table

    def gender_of(self, label: str) -> str | None:
        """The gender of a French noun phrase from its head word: the word list, then the
        endings; None when neither knows (the sentence then names the field instead)."""
        if not self.gendered:
            return "m"
        head = re.split(r"[\s’'(]", label.strip().lower(), maxsplit=1)[0]
        if head in self._genders:
            return self._genders[head]
        for gender in ("f", "m"):
            for ending in self.m.text("grammar.endings", gender=gender).split():
                if head.endswith(ending):
                    return gender
        return None

    def plural_head(self, label: str) -> bool:
        """Whether an English label starts with a plural noun ("Pages viewed per visit"): "the
        pages … is" would not agree, so the sentence names the field instead."""
        head = re.split(r"[\s(]", label.strip().lower(), maxsplit=1)[0]
        singular = self.m.text("grammar.singular_s").split()
        return len(head) > 3 and head.endswith("s") and not head.endswith(("ss", "us", "is")) \
            and head not in singular

    def elides(self, text: str) -> bool:
        first = text.strip()[:1].lower()
        return bool(first) and first in self.m.text("grammar.elision")

    @staticmethod
    def lower_first(text: str) -> str:
        """Taille de l’entreprise -> taille de l’entreprise; CA, SIRET and iPhone stay."""
        if len(text) > 1 and text[0].isupper() and not text[1].isupper():
            return text[0].lower() + text[1:]
        return text

    def name_words(self, name: str, type_name: str | None = None) -> str:
        """A name without a label, in words: "job title", and for a date "MQL date" or
        "date created" (English), "date MQL" (French), instead of "mql at"."""
        words = humanise(name).split(" ")
        suffixes = self.m.text("grammar.date_name.suffixes").split()
        if type_name in ("date", "datetime") and len(words) > 1 and words[-1] in suffixes:
            rest = " ".join(words[:-1])
            endings = tuple(self.m.text("grammar.date_name.participle_endings").split())
            form = "participle" if endings and words[-2].endswith(endings) else "noun"
            return self.m.text(f"grammar.date_name.{form}", name=rest)
        return " ".join(words)

    def noun(self, label: str | None, name: str, kind: str = TEXT,
             fallback: str = "grammar.field_fallback", column: str | None = None,
             type_name: str | None = None) -> Noun:
        """The noun phrase of a field, property or event, from its label when it has one.
        Without a label, a gendered language names the thing instead ("le champ « Job
        Title »", by its export column when the rules give one: what the CRM shows)."""
        shown = self.words(label) if label else self.name_words(name, type_name)
        gender = self.gender_of(shown) if label else None
        plural = bool(label) and not self.gendered and fallback == "grammar.field_fallback" \
            and self.plural_head(shown)
        if (gender is None and self.gendered) or plural:
            # "le champ « Rôle »", "un événement Achat": a noun whose gender is known.
            if not label and column:
                shown = column
            if not label and not column and kind == TEXT:
                # The name's words are English or lose their accents ("date cree"): the
                # identifier, as the rules write it, is what the reader can look up.
                inner = Rich([(CODE, name)])
            else:
                inner = self.quoted(shown) if kind == TEXT else Rich([(kind, shown)])
            bare = self.m.rich(f"{fallback}.text", name=inner)
            return Noun(bare, self.m.text(f"{fallback}.gender"), self.elides(bare.plain))
        text = self.lower_first(shown)
        return Noun(Rich([(kind, text)]), gender or "m", self.elides(text))

    def linked(self, word: str, text: Rich | str) -> Rich:
        """`text` after French "de" or "que", elided before a vowel: d'une heure, qu'il y a
        eu (English: the text alone)."""
        plain = text.plain if isinstance(text, Rich) else text
        return self.m.rich(f"grammar.{word}.{'elided' if self.elides(plain) else 'plain'}",
                           noun=text)

    def det(self, noun: Noun, which: str) -> Rich:
        """The noun with a determiner: `which` is the, of_the, a, no, each or bare."""
        if noun.fixed is not None:
            return noun.fixed
        key = f"grammar.{which}.{'elided_' if noun.elided else ''}{noun.gender}"
        if not self.m.has(key):
            key = f"grammar.{which}.{'elided' if noun.elided else noun.gender}"
        return self.m.rich(key, noun=noun.bare)

    def field_ref(self, f: ast.Field | ast.Property | None, name: str) -> Rich:
        """A field named as a column of the export: le champ « mql at », the “mql at” field."""
        if f is not None and f.label:
            inner = self.quoted(self.words(f.label))
        elif isinstance(f, ast.Field) and f.column:
            inner = self.quoted(f.column)
        elif self.gendered:
            inner = Rich([(CODE, name)])
        else:
            inner = self.quoted(self.name_words(name, f.type.name if f is not None else None))
        bare = self.m.rich("grammar.field_fallback.text", name=inner)
        noun = Noun(bare, self.m.text("grammar.field_fallback.gender"), self.elides(bare.plain))
        return self.det(noun, "the")

    def unlabelled(self, name: str, column: str | None, type_name: str | None) -> Rich:
        """What names a field or property without a label in a table: its export column
        (what the CRM shows); else, in French, its identifier as code (humanised words would
        be English or lose their accents), in English its name in words."""
        if column:
            return Rich([(TEXT, column)])
        if self.gendered:
            return Rich([(CODE, name)])
        words = self.name_words(name, type_name)
        return Rich([(TEXT, words[:1].upper() + words[1:])])

    def field_noun(self, f: ast.Field | ast.Property) -> Noun:
        return self.noun(f.label, f.name, column=getattr(f, "column", None),
                         type_name=f.type.name)

    def event_term(self, event_name: str) -> Rich:
        """An event named as a thing of its own: *Demande de démo*."""
        event = self.rs.events.get(event_name)
        return self.term(self.label_of(event) if event else humanise(event_name))

    def event_noun(self, event_name: str) -> Noun:
        event = self.rs.events.get(event_name)
        label = event.label if event else None
        return self.noun(label, event_name, TERM, "grammar.event_fallback")

    def event_plural(self, event_name: str) -> Noun:
        """Events counted or summed, as the singular reads them: « visites de la page Tarifs »,
        "pricing page visits"; « événements *Hard bounce* » when the singular names the event."""
        event = self.rs.events.get(event_name)
        label = event.label if event else None
        shown = self.words(label) if label else ""
        # A label in another language than the document's keeps its own words: the
        # document's plural rules would not apply to them.
        native = self.rs.locale.split("-")[0].split("_")[0] == self.m.lang
        if label and native and (not self.gendered or self.gender_of(shown) is not None):
            text = self.plural(self.lower_first(shown))
            return Noun(Rich([(TERM, text)]), self.gender_of(shown) or "m", self.elides(text))
        term = self.term(label) if label else self.term(humanise(event_name))
        bare = self.m.rich("grammar.event_fallback.plural", name=term)
        return Noun(bare, self.m.text("grammar.event_fallback.gender"), self.elides(bare.plain))

    def last_event(self, event_name: str) -> Rich:
        """« le dernier achat », « la dernière visite », "the last purchase"."""
        noun = self.event_noun(event_name)
        return self.m.rich("grammar.last", gender=noun.gender, noun=noun.bare)

    def plural(self, text: str) -> str:
        """The plural of a noun phrase, by the rules of the message file: French puts every
        word before the first preposition in the plural (« e-mails rejetés »), English its
        last noun ("pricing page visits", "meetings booked")."""
        stops = set(self.m.text("grammar.plural.stop").split())
        keep = tuple(self.m.text("grammar.plural.keep").split())
        words = text.split(" ")
        head = 0
        while head < len(words):
            word = words[head].lower().replace("’", "'")
            if word in stops or "'" in word or not word[:1].isalpha():
                break
            head += 1
        chosen = range(head)
        if self.m.text("grammar.plural.words") == "last":
            nouns = [i for i in range(head) if not (keep and words[i].lower().endswith(keep))]
            chosen = nouns[-1:] or range(head)[-1:]
        for i in chosen:
            words[i] = self._plural_word(words[i])
        return " ".join(words)

    def _plural_word(self, word: str) -> str:
        stem, dash, last = word.rpartition("-")
        rules = [pair.split(":") for pair in self.m.text("grammar.plural.endings").split()]
        for ending, replacement in rules:
            if last.lower().endswith(ending):
                return stem + dash + last[:len(last) - len(ending)] + replacement
        return word + "s"

    # ------------------------------------------------------------------ numbers and durations

    def duration(self, d: ast.Duration) -> str:
        key = f"duration.{'business.' if d.business else ''}{d.unit}"
        return self.m.text(key, count=d.amount, n=self.typo.number(d.amount))

    def delay(self, d: ast.Duration) -> str:
        """A commitment's delay: in business time as `duration` says it, else marked as clock
        time ("30 minutes calendaires"), which readers would otherwise take for office time."""
        if d.business:
            return self.duration(d)
        return self.m.text(f"delay.{d.unit}", count=d.amount, n=self.typo.number(d.amount))

    def window(self, d: ast.Duration | None) -> Rich:
        """" au cours des 30 derniers jours" (with its leading space), or nothing."""
        if d is None:
            return Rich()
        key = f"window.{'business.' if d.business else ''}{d.unit}"
        return Rich([(TEXT, " ")]) + self.m.rich(key, count=d.amount, n=self.typo.number(d.amount))

    def money(self, amount, currency: str | None = None) -> str:
        return self.typo.money(amount, currency or self.rs.currency or "EUR")

    def period(self, period: str) -> str:
        return self.m.text(f"period.per.{period}")

    # ------------------------------------------------------------------ values

    def symbol(self, ref: ast.Ref) -> Symbol | None:
        return self.rs.resolve(ref)

    def subject(self, expr) -> tuple[Noun, str]:
        """The noun phrase of a compared value and the kind of value it holds (a type kind,
        or "stage"/"route"/"grade")."""
        if isinstance(expr, ast.Ref):
            sym = self.symbol(expr)
            if sym is None:
                return self.noun(None, expr.name), "text"
            if sym.kind == FIELD:
                return self.field_noun(sym.node), sym.type.kind
            if sym.kind == EMAIL_DOMAIN:
                owner = self.field_noun(sym.node)
                return self._fixed("noun.domain", of=self.det(owner, "of_the"),
                                   field=self.det(owner, "the")), "text"
            if sym.kind == SCORE:
                return self._named("noun.score", sym.node), "number"
            if sym.kind == GRADE:
                return self._named("noun.grade", sym.node), "grade"
            if sym.kind == QUALIFICATION_COUNT:
                return self._fixed("noun.criteria_count",
                                   name=self.term(self.label_of(sym.node))), "int"
            if sym.kind == EVENT_PROPERTY:
                return self.field_noun(sym.node), sym.type.kind
            if sym.kind == STAGE:
                return self._fixed("noun.stage"), "stage"
            if sym.kind == ROUTE:
                return self._fixed("noun.route"), "route"
            if sym.kind in (SEGMENT, QUALIFICATION, CRITERION):
                return self._fixed("noun.truth", name=self.term(self.label_of(sym.node))), "bool"
            return self.noun(None, expr.name), sym.type.kind
        if isinstance(expr, ast.Count):
            events = self.event_plural(expr.event)
            return self._fixed("noun.count", of_events=self.linked("de", self.det(events, "bare")),
                               window=self.window(expr.window)), "int"
        if isinstance(expr, ast.Sum):
            event_name, *rest = expr.target.parts
            sym = self.symbol(expr.target)
            prop = self.field_noun(sym.node) if sym is not None else self.noun(None, ".".join(rest))
            kind = sym.type.kind if sym is not None else "number"
            args = {"the_prop": self.det(prop, "the"), "of_prop": self.det(prop, "of_the"),
                    "prop": self.det(prop, "bare"),
                    "events": self.det(self.event_plural(event_name), "bare"),
                    "window": self.window(expr.window)}
            # A property named as a field (« le champ `amount` ») is summed, not « cumulé ».
            key = "noun.sum" if sym is not None and sym.node.label \
                and self.gender_of(self.words(sym.node.label)) is not None else "noun.sum_of_field"
            text = self.m.rich(f"{key}.text", gender=prop.gender, **args)
            of = self.m.rich(f"{key}.of", gender=prop.gender, **args)
            gender = prop.gender if key == "noun.sum" else self.m.text(f"{key}.gender")
            return Noun(text, gender, self.elides(text.plain), text, of), kind
        if isinstance(expr, ast.DaysSince):
            return self._fixed("noun.days_since", last=self.last_event(expr.event)), "int"
        return Noun(self.expr(expr)), "number"

    def _fixed(self, key: str, **args) -> Noun:
        text = self.m.rich(f"{key}.text", **args)
        of = self.m.rich(f"{key}.of", **args)
        gender = self.m.text(f"{key}.gender")
        return Noun(text, gender, self.elides(text.plain), text, of)

    def _named(self, key: str, node) -> Noun:
        """A score or grade: "le score Engagement", but "la note d’adéquation" when the label
        already says what it is."""
        label = self.label_of(node)
        head = self.m.text(f"{key}.head")
        if node.label and re.search(rf"\b{re.escape(head)}\b", label.lower()) \
                and self.gender_of(self.words(label)) is not None:
            return self.noun(label, node.name)
        return self._fixed(key, name=self.term(label))

    def the(self, noun: Noun) -> Rich:
        return noun.fixed if noun.fixed is not None else self.det(noun, "the")

    def of(self, noun: Noun) -> Rich:
        """"du score Engagement", "de la taille de l’entreprise" (English: "the …")."""
        return noun.fixed_of if noun.fixed_of is not None else self.det(noun, "of_the")

    def member(self, field_node: ast.Field | None, name: str) -> Rich:
        """How an enum member is shown: the export's first spelling, else its humanised name."""
        if field_node is not None:
            for m in field_node.type.members:
                if m.name == name:
                    return Rich([(FIGURE, member_text(m, field_node.type.members))])
        return Rich([(FIGURE, humanise(name))])

    def export_value(self, field_node: ast.Field | None, name: str) -> Rich:
        """An enum member as the export spells it (a table of CRM values, the appendix)."""
        member = next((m for m in field_node.type.members if m.name == name), None) \
            if field_node is not None else None
        return Rich([(FIGURE, export_spelling(member) if member is not None else name)])

    def operand(self, expr, left) -> Rich:
        """A value compared with `left` (whose type says how to show bare names and numbers)."""
        sym = self.symbol(left) if isinstance(left, ast.Ref) else None
        if isinstance(expr, ast.SetLit):
            return self.typo.rich_list([self.operand(i, left) for i in expr.items], "or")
        if isinstance(expr, ast.Ref):
            if sym is not None and sym.kind == FIELD and sym.node.type.name == "enum":
                return self.member(sym.node, expr.name)
            if sym is not None and sym.kind == GRADE:
                return self.grade_value(sym.node, expr.name)
            if sym is not None and sym.kind == STAGE:
                return self.stage_name(expr.name)
            if sym is not None and sym.kind == ROUTE:
                route = next((r for r in self.rs.routes if r.name == expr.name), None)
                return self.term(self.label_of(route) if route else humanise(expr.name))
            other = self.symbol(expr)
            if other is not None and other.kind == FIELD:
                return self.the(self.field_noun(other.node))
            if other is not None:
                return self.the(self.subject(expr)[0])
            return Rich([(FIGURE, humanise(expr.name))])
        if isinstance(expr, ast.Number) and sym is not None and sym.type.kind == "money":
            return Rich([(FIGURE, self.money(expr.value, sym.type.currency))])
        return self.literal(expr)

    def literal(self, expr) -> Rich:
        if isinstance(expr, ast.Number):
            return Rich([(FIGURE, self.typo.number(expr.value))])
        if isinstance(expr, ast.Money):
            return Rich([(FIGURE, self.money(expr.amount, expr.currency))])
        if isinstance(expr, ast.Percent):
            return Rich([(FIGURE, self.typo.percent(expr.value))])
        if isinstance(expr, ast.Duration):
            return Rich([(FIGURE, self.duration(expr))])
        if isinstance(expr, ast.DateLit):
            return Rich([(FIGURE, self.typo.date(expr.value))])
        if isinstance(expr, ast.DateTimeLit):
            return self.m.rich("value.datetime", date=self.typo.date(expr.value.date()),
                               time=self.typo.time(expr.value.time()))
        if isinstance(expr, ast.String):
            return self.quoted(expr.value)
        if isinstance(expr, ast.Bool):
            return self.m.rich("value.true" if expr.value else "value.false")
        if isinstance(expr, ast.SetLit):
            return self.typo.rich_list([self.literal(i) for i in expr.items], "or")
        return self.expr(expr)

    def expr(self, expr, parent: str | None = None) -> Rich:
        """Arithmetic of a derived score: 0,6 × Adéquation au profil + 0,4 × Engagement."""
        if isinstance(expr, ast.BinOp):
            sign = {"+": " + ", "-": " \u2212 ", "*": " \u00d7 ", "/": " \u00f7 "}[expr.op]
            inner = self.expr(expr.left, expr.op) + sign + self.expr(expr.right, expr.op)
            if parent in ("*", "/") and expr.op in ("+", "-"):
                return "(" + inner + ")"
            return inner
        if isinstance(expr, ast.Neg):
            return "\u2212" + self.expr(expr.operand, "*")
        if isinstance(expr, ast.Ref):
            sym = self.symbol(expr)
            if sym is not None and sym.node is not None:
                return self.term(self.label_of(sym.node))
            return self.term(humanise(expr.name))
        if isinstance(expr, ast.Number):
            return Rich([(FIGURE, self.typo.number(expr.value))])
        return self.literal(expr)

    def grade_value(self, grade: ast.Grade, name: str) -> Rich:
        row = next((r for r in grade.rows if r.name == name), None)
        return self.term(self.label_of(row) if row is not None else name)

    def stage_name(self, name: str) -> Rich:
        stage = next((s for s in self.rs.stages if s.name == name), None)
        if stage is None and name == "customer":
            return self.m.rich("stage.customer")
        return self.term(self.label_of(stage) if stage is not None else humanise(name))

    # ------------------------------------------------------------------ conditions

    def cond(self, c: ast.Cond, negated: bool = False) -> CondNode:
        """A condition in words, with negations pushed down to the leaves."""
        if isinstance(c, ast.Not):
            return self.cond(c.item, not negated)
        if isinstance(c, (ast.And, ast.Or)):
            is_all = isinstance(c, ast.And) != negated
            items: list[CondNode] = []
            for node in self.merged(c.items, negated, is_all):
                # (a and b) and c reads as one list of three conditions.
                if node.mode == ("all" if is_all else "any"):
                    items.extend(node.items)
                else:
                    items.append(node)
            if len(items) == 1:
                return items[0]
            return CondNode(mode="all" if is_all else "any", items=items)
        return CondNode(text=self.leaf(c, negated), compound=_compound(c))

    def merged(self, conds, negated: bool, is_all: bool) -> list[CondNode]:
        """The conditions of a group, those about one field said once: « le pays est « FR »,
        « BE » ou « CH » » for `country == "FR" or country == "BE" or …`, « l'intitulé est
        renseigné et différent de « Autre » » for `x is present and x != "Autre"`."""
        plain = [_effective(c, negated) for c in conds]
        out: list[CondNode] = []
        i = 0
        while i < len(plain):
            c, neg = plain[i]
            same = [c]
            op = _effective_op(c, neg)
            # `==` joined by "or" (or `!=` joined by "and", the same negated) on one field.
            if op == ("!=" if is_all else "=="):
                while i + len(same) < len(plain):
                    nxt, nxt_neg = plain[i + len(same)]
                    if _effective_op(nxt, nxt_neg) != op or not _same_ref(nxt.left, c.left):
                        break
                    same.append(nxt)
            if len(same) > 1:
                options = ast.SetLit(tuple(x.right for x in same), c.span)
                text = self.in_(ast.In(c.left, options, False, c.span), op == "!=")
                out.append(CondNode(text=text, compound=True))
                i += len(same)
                continue
            if is_all and isinstance(c, ast.Presence) and c.present != neg and i + 1 < len(plain):
                nxt, nxt_neg = plain[i + 1]
                nxt_op = _effective_op(nxt, nxt_neg)
                if nxt_op is not None and _same_ref(nxt.left, c.value):
                    text = self.compare(nxt.left, nxt_op, nxt.right, present=True)
                    if text is not None:
                        out.append(CondNode(text=text, compound=True))
                        i += 2
                        continue
            out.append(self.cond(conds[i], negated))
            i += 1
        return out

    def leaf(self, c, negated: bool) -> Rich:
        if isinstance(c, ast.Compare):
            return self.compare(c.left, c.op if not negated else _INVERSE[c.op], c.right)
        if isinstance(c, ast.Between):
            noun, kind = self.subject(c.value)
            key = "date" if kind in ("date", "datetime") else "num"
            return self.m.rich(f"cond.between.{key}.{'no' if negated else 'yes'}",
                               gender=noun.gender, subject=self.the(noun),
                               low=self.operand(c.low, c.value), high=self.operand(c.high, c.value))
        if isinstance(c, ast.In):
            return self.in_(c, c.negated != negated)
        if isinstance(c, ast.TextTest):
            noun, _ = self.subject(c.value)
            operand = Rich([(CODE, c.operand.value)]) if c.op == "matches" and isinstance(
                c.operand, ast.String) else self.operand(c.operand, c.value)
            key = c.op.replace(" ", "_")
            return self.m.rich(f"cond.text.{key}.{'no' if negated else 'yes'}",
                               gender=noun.gender, subject=self.the(noun), value=operand)
        if isinstance(c, ast.Presence):
            noun, _ = self.subject(c.value)
            present = c.present != negated
            return self.m.rich(f"cond.presence.{'yes' if present else 'no'}",
                               gender=noun.gender, subject=self.the(noun))
        if isinstance(c, ast.Within):
            event = self.event_noun(c.event)
            return self.m.rich(f"cond.within.{'no' if negated else 'yes'}",
                               a_event=self.det(event, "a"), no_event=self.det(event, "no"),
                               window=self.window(c.window))
        if isinstance(c, ast.Truth):
            return self.truth(c.value, negated)
        raise TypeError(f"no sentence for {type(c).__name__}")

    def truth(self, value, negated: bool) -> Rich:
        yes = "no" if negated else "yes"
        sym = self.symbol(value) if isinstance(value, ast.Ref) else None
        if sym is not None and sym.kind in (SEGMENT, QUALIFICATION):
            return self.m.rich(f"cond.{sym.kind}.{yes}", name=self.term(self.label_of(sym.node)))
        if sym is not None and sym.kind == CRITERION:
            qualification = self.rs.qualifications[value.parts[0]]
            return self.m.rich(f"cond.criterion.{yes}", name=self.term(self.label_of(sym.node)),
                               qualification=self.term(self.label_of(qualification)))
        if sym is not None and sym.kind == FIELD:
            return self.m.rich(f"cond.true.{yes}", subject=self.field_ref(sym.node, sym.name))
        noun, _ = self.subject(value)
        return self.m.rich(f"cond.true.{yes}", subject=self.the(noun))

    def compare(self, left, op: str, right, present: bool = False) -> Rich | None:
        """`left op right` in words. With `present`, the same said of a value just said to be
        filled in (« est renseigné et supérieur à 4 »); None when the language has no such
        form for this comparison."""
        if present:
            noun, kind = self.subject(left)
            family = self.family(kind, op, right)
            key = f"cond.present_and.{family}.{_OP_KEY[op]}"
            if not self.m.has(key) or self.ordered_members(left, op, right):
                return None
            return self.m.rich(key, gender=noun.gender, **self.compare_args(noun, family, left,
                                                                              right))
        if isinstance(left, ast.Count) and isinstance(right, ast.Number):
            return self.count_compare(left, op, right.value)
        if isinstance(left, ast.DaysSince) and isinstance(right, ast.Number):
            days = self.m.text("duration.days", count=right.value,
                               n=self.typo.number(right.value))
            return self.m.rich(f"cond.since.{_OP_KEY[op]}", last=self.last_event(left.event),
                               days=Rich([(FIGURE, days)]), of_days=self.linked("de", days))
        noun, kind = self.subject(left)
        args = {"gender": noun.gender, "subject": self.the(noun)}
        if kind == "stage":
            return self.m.rich(f"cond.stage.{_OP_KEY[op]}", stage=self.operand(right, left))
        if kind == "route":
            key = "eq" if op == "==" else "ne"
            return self.m.rich(f"cond.route.{key}", route=self.operand(right, left))
        listed = self.ordered_members(left, op, right)
        if listed:
            if len(listed) == 1:
                return self.m.rich("cond.cmp.is.eq", value=listed[0], **args)
            return self.m.rich("cond.in.yes", count=len(listed),
                               values=self.typo.rich_list(listed, "or"), **args)
        family = self.family(kind, op, right)
        return self.m.rich(f"cond.cmp.{family}.{_OP_KEY[op]}", gender=noun.gender,
                           **self.compare_args(noun, family, left, right))

    @staticmethod
    def family(kind: str, op: str, right) -> str:
        if kind in ("date", "datetime"):
            return "date"
        if kind in _NUMERIC or isinstance(right, (ast.Number, ast.Money, ast.Percent)):
            return "num"
        return "is" if op in ("==", "!=") else "num"

    def compare_args(self, noun: Noun, family: str, left, right) -> dict:
        """The pieces of a comparison: the value bare, after « de » (« différent d'… ») and,
        for a date, after « à » (« antérieure au 1ᵉʳ janvier », « à la date de création »)."""
        value = self.operand(right, left)
        args = {"subject": self.the(noun), "value": value, "of_value": self.linked("de", value)}
        if family == "date":
            if isinstance(right, (ast.DateLit, ast.DateTimeLit)):
                args["to_value"] = self.m.rich("grammar.to_date", date=value)
                args["the_value"] = self.m.rich("grammar.the_date", date=value)
            else:
                other = self.subject(right)[0] if isinstance(right, ast.Ref) else Noun(value)
                args["to_value"] = self.det(other, "to_the")
                args["the_value"] = self.the(other)
        return args

    def count_compare(self, c: ast.Count, op: str, n) -> Rich:
        """A number of events as what happened: « il y a eu au moins 3 visites … », « il n'y a
        eu aucune visite », "there was at least one demo request"; one event is written out."""
        if (op, n) in (("==", 0), ("<=", 0), ("<", 1)):
            form = "none"
        elif (op, n) in (("!=", 0), (">", 0), (">=", 1)):
            form, op = "one", ">="
        else:
            form = "one" if n == 1 else "several"
        event = self.event_noun(c.event)
        args = {"event": self.det(event, "bare"), "a_event": self.det(event, "a"),
                "events": self.det(self.event_plural(c.event), "bare"),
                "n": Rich([(FIGURE, self.typo.number(n))]), "window": self.window(c.window)}
        args["of_a_event"] = self.linked("de", args["a_event"])
        if form == "none":
            return self.m.rich("cond.count.none", gender=event.gender, **args)
        return self.m.rich(f"cond.count.{form}.{_OP_KEY[op]}", **args)

    def ordered_members(self, left, op: str, right) -> list[Rich]:
        """`status >= connected`, `temperature >= warm` as the values that satisfy it, in the
        order of the rules: "d'au moins En relation" says nothing of which values come after.
        Enum members rise in the order they are declared; a grade's first row is its highest."""
        if op not in (">=", ">", "<=", "<") or not isinstance(left, ast.Ref) \
                or not isinstance(right, ast.Ref):
            return []
        sym = self.symbol(left)
        if sym is not None and sym.kind == FIELD and sym.node.type.name == "enum":
            names = [m.name for m in sym.node.type.members]
            rising = True
        elif sym is not None and sym.kind == GRADE and sym.node.rows:
            names = [r.name for r in sym.node.rows]
            rising = False
        else:
            return []
        if right.name not in names:
            return []
        i = names.index(right.name)
        upward = op in (">=", ">") if rising else op in ("<=", "<")
        strict = op in (">", "<")
        if upward:
            chosen = names[i + 1:] if strict else names[i:]
        else:
            chosen = names[:i] if strict else names[:i + 1]
        return [self.operand(ast.Ref((name,), right.span), left) for name in chosen]

    def in_(self, c: ast.In, negated: bool) -> Rich:
        noun, _ = self.subject(c.value)
        args = {"gender": noun.gender, "subject": self.the(noun)}
        if isinstance(c.options, ast.Ref):
            listed = self.rs.lists.get(c.options.name)
            name = self.term(humanise(listed.name if listed else c.options.name))
            return self.m.rich(f"cond.in_list.{'no' if negated else 'yes'}", name=name, **args)
        values = [self.operand(item, c.value) for item in c.options.items]
        sym = self.symbol(c.value) if isinstance(c.value, ast.Ref) else None
        if sym is not None and sym.kind == STAGE:
            return self.m.rich(f"cond.stage.{'out' if negated else 'in'}",
                               stages=self.typo.rich_list(values, "or"))
        if sym is not None and sym.kind == ROUTE:
            return self.m.rich(f"cond.route.{'out' if negated else 'in'}",
                               routes=self.typo.rich_list(values, "or"))
        if not negated:
            return self.m.rich("cond.in.yes", count=len(values),
                               values=self.typo.rich_list(values, "or"), **args)
        if len(values) == 1:
            return self.m.rich("cond.in.no_one", value=values[0], **args)
        neither = self.m.rich("cond.in.nor_first", value=values[0])
        for v in values[1:]:
            neither = neither + self.m.rich("cond.in.nor_next", value=v)
        return self.m.rich("cond.in.no", count=len(values), values=neither,
                           all=self.typo.rich_list(values, "or"), **args)

    # ------------------------------------------------------------------ layout of a condition

    def finish(self, node: CondNode, end: str, capital: bool = False) -> CondNode:
        """Sets `line` and `children` for display: a leaf ends with `end`; a short flat group
        reads on one line ("A et B"); a longer or nested one becomes an introduced list whose
        items end with ";" and whose last item ends with `end`."""
        if node.inlinable:
            text = self.inline(node)
            node.line = (text.capitalized() if capital else text) + end
            node.children = []
            return node
        intro = self.m.rich(f"cond.group.{node.mode}")
        node.line = (intro.capitalized() if capital else intro) + self.m.text("punct.colon")
        node.children = [
            self.finish(item, end if i == len(node.items) - 1 else self.m.text("punct.item"))
            for i, item in enumerate(node.items)
        ]
        return node

    def inline(self, node: CondNode) -> Rich:
        if node.is_leaf:
            return node.text
        return self.typo.rich_list([item.text for item in node.items],
                                   "and" if node.mode == "all" else "or")

    def conditions(self, conds, mode: str, end: str) -> list[CondNode]:
        """The conditions of a segment (or any list): one node each, punctuated as a list."""
        nodes = [self.cond(c) for c in conds]
        return [self.finish(n, end if i == len(nodes) - 1 else self.m.text("punct.item"))
                for i, n in enumerate(nodes)]

    def sentence(self, c: ast.Cond, end: str = "") -> CondNode:
        """A condition standing alone (a table cell, a ladder step): capitalised."""
        return self.finish(self.cond(c), end, capital=True)

    def clause(self, c: ast.Cond) -> CondNode:
        """A condition inside a sentence ("lorsque …"): lower case, no final mark. A short
        group repeats "que" before each further condition: « lorsque A et que B »."""
        node = self.finish(self.cond(c), "")
        if not node.is_leaf and not node.children:
            texts = [item.text if i == 0 else self.linked("que", item.text)
                     for i, item in enumerate(node.items)]
            node.line = self.typo.rich_list(texts, "and" if node.mode == "all" else "or")
        return node

    def times(self, windows) -> Rich:
        spans = []
        for start, end in windows:
            spans.append(self.m.rich(
                "calendar.span", start=self.typo.time(calendars.clock(calendars.minutes(start))),
                end=self.typo.time(calendars.clock(calendars.minutes(end)))))
        return self.typo.rich_list(spans, "and")

    def day(self, name: str) -> str:
        number = calendars.day_number(name)
        return self.typo.day_name(number) if number is not None else name

    def days(self, spans) -> Rich:
        parts = []
        for first, last in spans:
            a = self.day(first)
            if last and last != first:
                b = self.day(last)
                parts.append(self.m.rich("calendar.days_range", first=a, last=b))
            else:
                parts.append(self.m.rich("calendar.day", day=a))
        return self.typo.rich_list(parts, "and")

