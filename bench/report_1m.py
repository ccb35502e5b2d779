"""Benchmark: `leadrules report` over 100,000 leads and 1,000,000 activities (rules/acme.leadrules).

    .venv/bin/python bench/report_1m.py [--leads 100000] [--activities 1000000] [--format html]

Generates, once, bench/data/report-<leads>/leads.csv (the French example's export columns and
spellings, created and MQL dates across 2027) and activities.csv (calls, e-mails, webinars,
pricing-page visits, demo requests, accept/reject, a sprinkling of unknown leads, unreadable
timestamps and duplicates); git-ignored. Then runs the installed `leadrules report` on them,
as of 2027-12-01, and prints the wall time, peak memory, and the report's own counts.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RULES = ROOT / "rules" / "acme.leadrules"
DATA = HERE / "data"
AS_OF = "2027-12-01T12:00"

COLUMNS = {
    "id": "ID de fiche d'informations", "email": "E-mail", "company": "Nom de l'entreprise",
    "company_size": "Nombre d'employés", "industry": "Secteur d'activité",
    "country": "Pays/région", "job_title": "Intitulé du poste", "role": "Rôle d'achat",
    "budget": "Budget annoncé", "source": "Source d'origine", "status": "Statut du lead",
    "created_at": "Date de création", "time_on_site": "Temps passé sur le site",
    "mql_at": "Date de passage en MQL", "sql_at": "Date de passage en SQL",
}
INDUSTRIES = ["Logiciel", "SaaS", "Services financiers", "Commerce de détail", "Industrie",
              "Secteur public", "Non renseigné"]
ROLES = ["Décideur", "Influenceur", "Utilisateur", ""]
SOURCES = ["Recherche naturelle", "Recherche payante", "Réseaux sociaux", "Recommandation",
           "Événement", "Prospection", "Partenaire"]
STATUSES = ["Nouveau", "Tentative de contact", "En relation", "Qualifié", "Mauvais moment"]
COUNTRIES = ["FR", "BE", "CH", "LU", "DE", "US"]
TITLES = ["Directeur marketing", "Responsable commercial", "Chef de projet", "Directrice "
          "générale", "Analyste", "Étudiant"]
TYPES = ["call", "email_sent", "call", "email_sent", "webinar_attended", "pricing_page_visit",
         "whitepaper_download", "demo_request"]
START = datetime(2027, 1, 4, 8, 0)


def generate(folder: Path, leads: int, activities: int, seed: int = 2027) -> None:
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    per_lead = activities / leads
    span = (datetime(2027, 11, 25) - START).total_seconds()
    temp = folder / "leads.tmp"
    created: list[datetime] = []
    mql: list[datetime | None] = []
    sql: list[datetime | None] = []
    with open(temp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS.values())
        for i in range(leads):
            c = START + timedelta(seconds=rnd.random() * span)
            m = c + timedelta(hours=rnd.random() * 200) if rnd.random() < 0.4 else None
            s = m + timedelta(hours=rnd.random() * 100) if m and rnd.random() < 0.5 else None
            created.append(c)
            mql.append(m)
            sql.append(s)
            w.writerow([
                f"A{i:07d}", f"contact{i}@entreprise{i % 997}.fr", f"Entreprise {i % 997}",
                rnd.choice(["", "N/C", str(rnd.randint(5, 5000))]), rnd.choice(INDUSTRIES),
                rnd.choice(COUNTRIES), rnd.choice(TITLES), rnd.choice(ROLES),
                rnd.choice(["", f"{rnd.randint(1, 80) * 1000} EUR"]), rnd.choice(SOURCES),
                rnd.choice(STATUSES), c.strftime("%Y-%m-%dT%H:%M"), str(rnd.randint(0, 3000)),
                m.strftime("%Y-%m-%dT%H:%M") if m else "",
                s.strftime("%Y-%m-%dT%H:%M") if s else ""])
    temp.replace(folder / "leads.csv")
    temp = folder / "activities.tmp"
    written = 0
    with open(temp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([COLUMNS["id"], "type", "at"])
        previous = None
        while written < activities:
            i = rnd.randrange(leads)
            anchor = mql[i] or created[i]
            at = anchor + timedelta(minutes=rnd.random() * 60 * 24 * 20 * per_lead / 10)
            kind = rnd.choice(TYPES)
            if sql[i] and rnd.random() < 0.05:
                kind, at = rnd.choice(["accepted", "rejected"]), sql[i] + timedelta(hours=5)
            row = [f"A{i:07d}", kind, at.strftime("%Y-%m-%dT%H:%M:%S")]
            roll = rnd.random()
            if roll < 0.001:
                row[0] = f"Z{i:07d}"  # a lead the export does not have
            elif roll < 0.0015:
                row[2] = "31/02/2027 25:00"
            elif roll < 0.002 and previous is not None:
                row = previous  # the same row twice
            w.writerow(row)
            previous = row
            written += 1
    temp.replace(folder / "activities.csv")


def leadrules_command() -> list[str]:
    found = shutil.which("leadrules", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "leadrules.cli"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--format", default="html", choices=["html", "md", "json"])
    args = parser.parse_args()
    folder = DATA / f"report-{args.leads}-{args.activities}"
    if not (folder / "activities.csv").exists():
        started = time.perf_counter()
        generate(folder, args.leads, args.activities)
        print(f"generated {folder} in {time.perf_counter() - started:.1f} s")
    out = folder / f"report.{args.format}"
    command = [*leadrules_command(), "report", str(RULES), "--leads", str(folder / "leads.csv"),
               "--activities", str(folder / "activities.csv"), "--as-of", AS_OF,
               "-o", str(out), "--leads-out", str(folder / "results.csv")]
    timed = ["/usr/bin/time", "-v", *command] if os.path.exists("/usr/bin/time") else command
    print("command:", " ".join(command))
    started = time.perf_counter()
    done = subprocess.run(timed, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"leadrules report failed ({done.returncode}):\n{done.stderr}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    cpu = [float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)",
                                        done.stderr)]
    print(f"leads: {args.leads:,}  activities: {args.activities:,}")
    print(f"wall time: {seconds:.1f} s" + (f"  CPU time: {sum(cpu):.1f} s" if cpu else "")
          + f"  load average: {os.getloadavg()[0]:.1f}")
    if peak:
        print(f"peak memory: {int(peak.group(1)) / 1024:.0f} MB")
    summary = [line for line in done.stderr.splitlines() if "report written" in line]
    print(summary[0] if summary else done.stderr.strip().splitlines()[-1])
    if args.format == "json":
        data = json.loads(out.read_text(encoding="utf-8"))
        print("first touch:", [(r["promise"], r["kept"]) for r in
                               data["follow_up"]["first_touch"]])


if __name__ == "__main__":
    main()
