"""The peer the import benchmark compares with: the 20-line pandas script of issue 8.

read_csv, strip and lower-case the email, a validity regex, drop_duplicates keeping the
last, to_sql into SQLite. No phone, name or IDNA work: the floor of what a data team
would write by hand.

    python bench/pandas_peer.py FILE.csv DB
"""

from __future__ import annotations

import sqlite3
import sys

import pandas as pd

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def main(source: str, db: str) -> None:
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    frame["E-mail"] = frame["E-mail"].str.strip().str.lower()
    frame = frame[frame["E-mail"].str.match(EMAIL) | (frame["E-mail"] == "")]
    with_email = frame[frame["E-mail"] != ""].drop_duplicates("E-mail", keep="last")
    frame = pd.concat([with_email, frame[frame["E-mail"] == ""]])
    with sqlite3.connect(db) as conn:
        frame.to_sql("leads", conn, if_exists="replace", index=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
