"""Writes the example export and activity log for rules/acme.leadrules (fixed seed, same files
every time): examples/acme-leads.csv and examples/acme-activities.csv.

    .venv/bin/python examples/make_acme_data.py
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
INDUSTRIES = ["Logiciel", "Services financiers", "Commerce de détail", "Industrie",
              "Secteur public", "Non renseigné"]
ROLES = ["Décideur", "Influenceur", "Utilisateur", ""]
SOURCES = ["Recherche naturelle", "Recherche payante", "Réseaux sociaux", "Recommandation",
           "Événement", "Prospection", "Partenaire"]
STATUSES = ["Nouveau", "Tentative de contact", "En relation", "Qualifié", "Non qualifié"]
TITLES = ["Directrice marketing", "Directeur commercial", "CEO", "Chargé de clientèle",
          "Responsable des achats", "Étudiant en master", "Directeur financier"]
COUNTRIES = ["FR", "FR", "FR", "BE", "CH", "LU", "DE", "US"]


def main() -> None:
    rng = random.Random(2027)
    leads, activities = [], []
    for n in range(1, 121):
        key = f"L{n:04d}"
        created = datetime(2027, 1, 4, 9) + timedelta(hours=rng.randrange(0, 24 * 80))
        size = rng.choice([8, 25, 60, 120, 300, 800, 2500, "N/C"])
        mql_at = created + timedelta(hours=rng.randrange(2, 200)) if rng.random() < 0.55 else None
        status = rng.choice(STATUSES)
        email_domain = rng.choice(["acme-client.fr", "exemple.com", "gmail.com", "societe.fr"])
        leads.append({
            "ID de fiche d'informations": key,
            "E-mail": f"contact{n}@{email_domain}",
            "Nom de l'entreprise": f"Entreprise {n}",
            "Nombre d'employés": size,
            "Secteur d'activité": rng.choice(INDUSTRIES),
            "Pays/région": rng.choice(COUNTRIES),
            "Intitulé du poste": rng.choice(TITLES),
            "Rôle d'achat": rng.choice(ROLES),
            "Budget annoncé": rng.choice(["", "", "3 000 EUR", "12 000 EUR", "40 000 EUR"]),
            "Source d'origine": rng.choice(SOURCES),
            "Statut du lead": status,
            "Temps passé sur le site": rng.randrange(0, 3600),
            "Date de création": created.isoformat(timespec="minutes"),
            "Date de passage en MQL": mql_at.isoformat(timespec="minutes") if mql_at else "",
            "Converted": int(status == "Qualifié" and rng.random() < 0.6),
        })
        for _ in range(rng.randrange(0, 4)):
            at = created + timedelta(hours=rng.randrange(0, 300))
            activities.append((key, rng.choice(["webinar_attended", "pricing_page_visit",
                                                "whitepaper_download"]), at))
        if mql_at is not None and rng.random() < 0.85:
            # Sales follow-up: the first touch comes after a delay that is sometimes too long.
            first = mql_at + timedelta(minutes=rng.choice([10, 45, 90, 200, 600, 2000, 5000]))
            for k in range(rng.randrange(1, 8)):
                at = first + timedelta(hours=k * rng.randrange(3, 40))
                activities.append((key, rng.choice(["call", "email_sent"]), at))
    # Two rows the report must list, not drop: a lead nobody knows, and an impossible instant.
    activities.append(("L9999", "call", datetime(2027, 2, 1, 10)))
    activities.append(("L0001", "call", None))
    with (HERE / "acme-leads.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(leads[0]))
        writer.writeheader()
        writer.writerows(leads)
    with (HERE / "acme-activities.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["lead", "type", "at"])
        for key, kind, at in sorted(activities, key=lambda a: (a[0], a[2] or datetime.min)):
            writer.writerow([key, kind, at.isoformat(timespec="minutes") if at else "le 32 mars"])


if __name__ == "__main__":
    main()
