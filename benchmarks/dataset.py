"""Generate issue 15's dataset as fintrack's import files, deterministically, at any scale.

    python benchmarks/dataset.py OUT_DIR [--scale 1.0] [--seed 15]

At scale 1: 250,000 pledges of 4 installments (1,000,000), 500,000 disbursements (2 a pledge),
50,000 sanction actions; every 50th pledge replaces the one before it. Also written: rates
(daily, EUR/GBP/QAR/SAR to USD), sources and links (every other pledge, each confidence in
turn), and journal.hledger (the same pledges and disbursements, for hledger's `balance`).
The output depends only on the scale and the seed (no clock), so two runs give the same bytes.
"""

import argparse
import csv
import random
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

PLEDGES, INSTALLMENTS_EACH, PAYMENTS_EACH, SANCTIONS = 250_000, 4, 2, 50_000
CURRENCIES = ["USD", "USD", "USD", "EUR", "EUR", "GBP", "QAR", "SAR"]
TO_USD = {"EUR": 1.08, "GBP": 1.27, "QAR": 0.2747, "SAR": 0.2666}
RECIPIENTS = ["Syria", "Lebanon", "Jordan", "Yemen", "Sudan", "Iraq", "Gaza", "Somalia"]
PURPOSES = ["salaries", "reconstruction", "electricity", "food", "health", "schools", "water"]
AUTHORITIES = ["US", "EU", "UK", "UN", "CA", "AU", "CH", "JP"]
ACTIONS = ["impose", "extend", "amend", "suspend", "ease", "licence", "waiver", "delist", "lift"]
STATUSES = ["planned", "announced", "in-force", "expired", "revoked"]
MEASURES = ["asset freeze", "travel ban", "arms embargo", "energy", "banking", "transport"]
CONFIDENCES = ["confirmed", "reported", "unverified", "denied"]
SOURCES = 1_000
FIRST_DAY, DAYS = date(2022, 1, 1), 365 * 8  # pledges announced over 2022-2029
RATES_FROM, RATES_UNTIL = date(2021, 12, 1), date(2032, 12, 31)

PLEDGE_HEADER = [
    "id", "donor", "recipient", "purpose", "currency", "pledged", "disbursed", "outstanding",
    "fulfilled_pct", "status", "announced", "installments", "next_due", "schedule_assumed",
    "ref", "replaces", "replaced_by",
]  # fmt: skip
INSTALLMENT_HEADER = [
    "pledge_id", "seq", "due", "currency", "amount", "paid", "outstanding", "state", "pledge_ref",
]  # fmt: skip
DISBURSEMENT_HEADER = [
    "id",
    "pledge_id",
    "installment",
    "paid_on",
    "currency",
    "amount",
    "pledge_ref",
]
SANCTION_HEADER = [
    "id", "authority", "program", "target", "action", "measures", "status", "announced",
    "effective", "expires", "deadline", "deadline_label", "legal_ref", "summary", "ref",
]  # fmt: skip
RATE_HEADER = ["base", "quote", "on", "rate", "source"]
SOURCE_HEADER = ["key", "url", "title", "publisher", "published", "retrieved"]
LINK_HEADER = ["kind", "record", "source", "confidence"]


@dataclass
class Counts:
    pledges: int
    installments: int
    disbursements: int
    sanctions: int


def counts(scale: float) -> Counts:
    pledges = max(2, round(PLEDGES * scale))
    return Counts(
        pledges,
        pledges * INSTALLMENTS_EACH,
        pledges * PAYMENTS_EACH,
        max(2, round(SANCTIONS * scale)),
    )


def cents(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def writer(path: Path) -> tuple[Any, TextIO]:
    handle = path.open("w", encoding="utf-8", newline="")
    return csv.writer(handle, lineterminator="\n"), handle


def generate(folder: Path, scale: float, seed: int = 15) -> Counts:
    """Write every file of the dataset into `folder`; returns how many records it holds."""
    folder.mkdir(parents=True, exist_ok=True)
    n = counts(scale)
    rng = random.Random(seed)
    donors = [f"Donor {d:03d}" for d in range(1, 301)]
    open_files = {
        name: writer(folder / f"{name}.csv")
        for name in ("pledges", "installments", "disbursements", "links")
    }
    p, i, d, links = (
        open_files[k][0] for k in ("pledges", "installments", "disbursements", "links")
    )
    p.writerow(PLEDGE_HEADER)
    i.writerow(INSTALLMENT_HEADER)
    d.writerow(DISBURSEMENT_HEADER)
    links.writerow(LINK_HEADER)
    journal = (folder / "journal.hledger").open("w", encoding="utf-8", newline="\n")
    disbursement_id = 0
    for pid in range(1, n.pledges + 1):
        donor, recipient = rng.choice(donors), rng.choice(RECIPIENTS)
        currency = rng.choice(CURRENCIES)
        announced = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        each = rng.randrange(10_000, 5_000_000) * 100 + rng.randrange(100)
        ref = f"bench-{pid}"
        replaces = pid - 1 if pid % 50 == 0 else ""
        status = rng.choice(["pledge", "commitment"])
        total = each * INSTALLMENTS_EACH
        p.writerow([
            pid, donor, recipient, rng.choice(PURPOSES), currency, cents(total), "", "", "",
            status, announced, INSTALLMENTS_EACH, "", "false", ref, replaces, "",
        ])  # fmt: skip
        journal.write(
            f"{announced} {donor} pledges {ref}\n"
            f"    pledged:{donor}:{recipient}  {cents(total)} {currency}\n"
            f"    promised:{recipient}\n\n"
        )
        dues = [announced + timedelta(days=91 * seq) for seq in range(INSTALLMENTS_EACH)]
        for seq, due in enumerate(dues, start=1):
            i.writerow([pid, seq, due, currency, cents(each), "", "", "", ref])
        # The first installment paid in full, the second in part.
        for seq, amount in ((1, each), (2, each // 2)):
            disbursement_id += 1
            paid_on = dues[seq - 1] + timedelta(days=rng.randrange(-10, 30))
            d.writerow([disbursement_id, pid, seq, paid_on, currency, cents(amount), ref])
            journal.write(
                f"{paid_on} {donor} pays {ref}\n"
                f"    disbursed:{donor}:{recipient}  {cents(amount)} {currency}\n"
                f"    pledged:{donor}:{recipient}\n\n"
            )
        if pid % 2 == 1:
            source = f"https://example.org/bench/{rng.randrange(SOURCES)}"
            links.writerow(["pledge", ref, source, CONFIDENCES[(pid // 2) % 4]])
    journal.close()

    s, handle = writer(folder / "sanctions.csv")
    s.writerow(SANCTION_HEADER)
    for sid in range(1, n.sanctions + 1):
        authority = rng.choice(AUTHORITIES)
        announced = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        measures = "; ".join(rng.sample(MEASURES, rng.randrange(1, 4)))
        expires = announced + timedelta(days=rng.choice([180, 365, 730])) if sid % 3 else ""
        deadline = announced + timedelta(days=rng.randrange(30, 400)) if sid % 4 == 0 else ""
        label = f"review {sid}" if deadline else ""
        s.writerow([
            sid, authority, f"{authority}-P{sid % 40}", f"Target {sid}", rng.choice(ACTIONS),
            measures, rng.choice(STATUSES), announced, announced, expires, deadline, label,
            f"Act {sid}/{announced.year}", f"Benchmark sanction action {sid}.",
            f"bench-s{sid}",
        ])  # fmt: skip
    handle.close()

    r, handle = writer(folder / "rates.csv")
    r.writerow(RATE_HEADER)
    day = RATES_FROM
    while day <= RATES_UNTIL:
        for base, rate in TO_USD.items():
            wobble = 1 + (rng.randrange(-500, 501) / 100_000)
            r.writerow([base, "USD", day, f"{rate * wobble:.6f}", "bench"])
        day += timedelta(days=1)
    handle.close()

    src, handle = writer(folder / "sources.csv")
    src.writerow(SOURCE_HEADER)
    for k in range(SOURCES):
        url = f"https://example.org/bench/{k}"
        src.writerow([url, url, f"Benchmark source {k}", "Bench", FIRST_DAY, RATES_UNTIL])
    handle.close()
    for _, handle in open_files.values():
        handle.close()
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("folder", type=Path, help="where to write the files")
    parser.add_argument("--scale", type=float, default=1.0, help="1 = the issue's size")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    if args.scale <= 0:
        sys.exit("--scale must be above 0")
    n = generate(args.folder, args.scale, args.seed)
    print(
        f"{n.pledges:,} pledges, {n.installments:,} installments, "
        f"{n.disbursements:,} disbursements, {n.sanctions:,} sanction actions in {args.folder}"
    )


if __name__ == "__main__":
    main()
