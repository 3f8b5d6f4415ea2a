"""Deterministic messy lead CSVs for the benchmarks, shaped like real files.

- about 10% of rows repeat an earlier lead (its email in another case, with spaces);
- about 30% of emails are in mixed case with surrounding spaces;
- about 15% of emails have an internationalized domain (bücher.de, münchen.de ...);
  as in real files, a few distinct domains cover every address;
- US and UK phones in mixed formats, some as spreadsheets write numbers (4155550107.0,
  4,155,550,142), some with an extension (x101, ext. 230), a few unparseable;
- about 3% of rows are malformed (a broken email) and some have a phone but no email.
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

FIRST = ["John", "Jane", "Ana", "Li", "Omar", "Ravi", "Sofia", "Marta", "Ken", "Zoë", "José"]
LAST = ["Doe", "Roe", "Smith", "Nguyen", "García", "Müller", "Khan", "Rossi", "Ito", "Brown"]
# what people put in addresses: plain ASCII
MAIL_LAST = ["doe", "roe", "smith", "nguyen", "garcia", "mueller", "khan", "rossi", "ito", "brown"]
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell"]
TITLES = ["CTO", "CEO", "VP Sales", "Engineer", "Head of Marketing", "", "Buyer"]
DOMAINS = ["example.com", "acme.io", "globex.net", "mail.co.uk", "hooli.dev"]
IDN_DOMAINS = ["bücher.de", "münchen.de", "café.fr", "straße.de", "españa.es"]
HEADER = ["First Name", "Last Name", "E-mail", "Phone", "Company Name", "Job Title", "Notes"]


# Real, assigned US area codes, so generated numbers are valid like real customers' are.
AREA_CODES = [
    201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218, 219,
    224, 225, 228, 229, 231, 234, 239, 240, 248, 251, 252, 253, 254, 256, 260, 262, 267,
    269, 270, 276, 281, 301, 302, 303, 304, 305, 307, 308, 309, 310, 312, 313, 314, 315,
    316, 317, 318, 319, 320, 321, 323, 325, 330, 334, 336, 337, 339, 347, 351, 352, 360,
    361, 386, 401, 402, 404, 405, 406, 407, 408, 409, 410, 412, 413, 414, 415, 417, 419,
    423, 424, 425, 430, 432, 434, 435, 440, 443, 469, 478, 479, 480, 484, 501, 502, 503,
    504, 505, 507, 508, 509, 510, 512, 513, 515, 516, 517, 518, 520, 530, 540, 541, 551,
    559, 561, 562, 563, 567, 570, 571, 573, 574, 575, 580, 585, 586, 601, 602, 603, 605,
    606, 607, 608, 609, 610, 612, 614, 615, 616, 617, 618, 619, 620, 623, 626, 630, 631,
    636, 641, 646, 650, 651, 660, 661, 662, 678, 682, 701, 702, 703, 704, 706, 707, 708,
    712, 713, 714, 715, 716, 717, 718, 719, 720, 724, 727, 731, 732, 734, 740, 754, 757,
    760, 763, 765, 770, 772, 773, 774, 775, 781, 785, 786, 801, 802, 803, 804, 805, 806,
    808, 810, 812, 813, 814, 815, 816, 817, 818, 828, 830, 831, 832, 843, 845, 847, 848,
    850, 856, 857, 858, 859, 860, 862, 863, 864, 865, 870, 901, 903, 904, 906, 907, 908,
    909, 910, 912, 913, 914, 915, 916, 917, 918, 919, 920, 925, 928, 931, 936, 937, 940,
    941, 947, 949, 951, 952, 954, 956, 970, 971, 972, 973, 978, 979, 980, 985, 989,
]  # fmt: skip


def phone_for(rng: random.Random, n: int) -> str:
    area = AREA_CODES[n % len(AREA_CODES)]
    exchange = 200 + (n // len(AREA_CODES)) % 700
    line = n % 10000
    shape = rng.random()
    if shape < 0.25:
        return f"({area}) {exchange}-{line:04d}"
    if shape < 0.4:
        return f"{area}.{exchange}.{line:04d}"
    if shape < 0.55:
        return f"+1 {area} {exchange} {line:04d}"
    if shape < 0.65:
        return f"{area}{exchange}{line:04d}"
    if shape < 0.7:
        return f"{area}{exchange}{line:04d}.0"  # a spreadsheet's float
    if shape < 0.73:
        return f"{int(f'{area}{exchange}{line:04d}'):,}"  # thousands separators
    if shape < 0.76:
        return f"({area}) {exchange}-{line:04d} x{n % 900 + 100}"
    if shape < 0.86:
        return f"+44 20 7946 {line:04d}"
    if shape < 0.93:
        return f"020 7946 {line:04d}"  # UK national format: the US default region rejects it
    if shape < 0.97:
        return f"ext {line}"
    return ""


def email_for(rng: random.Random, k: int) -> str:
    """Lead k's address as a person typed it: a fixed address, case and spaces vary."""
    if k % 7 == 3:  # about 15% of leads are at an internationalized domain
        domain = IDN_DOMAINS[k % len(IDN_DOMAINS)]
    else:
        domain = DOMAINS[k % len(DOMAINS)]
    address = f"user{k}.{MAIL_LAST[k % 10]}@{domain}"
    if rng.random() < 0.3:  # mixed case, with spaces around
        address = f"  User{k}.{MAIL_LAST[k % 10].title()}@{domain.title()} "
    return address


def write_messy_csv(path: Path, rows: int, seed: int = 42) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for n in range(rows):
            if n > 10 and rng.random() < 0.10:
                k = rng.randrange(n)  # a duplicate of an earlier row, email case/space mangled
                email = email_for(rng, k).upper()
            else:
                k = n
                email = email_for(rng, k)
                roll = rng.random()
                if roll < 0.03:
                    email = f"user{k}@@broken"
                elif roll < 0.06:
                    email = ""
            writer.writerow(
                [
                    FIRST[k % len(FIRST)],
                    LAST[k % len(LAST)],
                    email,
                    phone_for(rng, k),
                    COMPANIES[k % len(COMPANIES)],
                    rng.choice(TITLES),
                    "met at the fair" if rng.random() < 0.1 else "",
                ]
            )


if __name__ == "__main__":
    write_messy_csv(Path(sys.argv[1]), int(sys.argv[2]))
