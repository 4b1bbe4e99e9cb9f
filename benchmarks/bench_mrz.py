"""MRZ build + check per second on one core, for each format (goal: at least 20,000/s for TD3).

Plain script: `python benchmarks/bench_mrz.py [seconds-per-case]` (pin it to one core with `taskset -c 0`).
Rates are per CPU-second of this process. Prints figures and the ratio to the goal.
Also times `mrz_lines(document)` (transliteration + record + build) and `parse`.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Callable

from mrtd.model import Document, DocumentCode, DocumentFormat, Holder, PartialDate, Sex
from mrtd.mrz import MrzRecord, build, check, mrz_lines, parse

GOAL_TD3 = 20_000
REFERENCE = dt.date(2026, 6, 15)

CODES = {"TD3": "PP", "TD1": "ID", "TD2": "ID", "MRV-A": "V<", "MRV-B": "V<"}


def _record(fmt: DocumentFormat) -> MrzRecord:
    return MrzRecord(
        fmt,
        CODES[fmt.value],
        "UTO",
        "ERIKSSON",
        "ANNA<MARIA",
        "L898902C3",
        "UTO",
        PartialDate(1974, 8, 12),
        Sex.FEMALE,
        PartialDate(2034, 4, 15),
        "ZE18422",
    )


def _document(fmt: DocumentFormat) -> Document:
    holder = Holder("Eriksson", "Anna Maria", "UTO", PartialDate(1974, 8, 12), Sex.FEMALE)
    return Document(
        DocumentCode(CODES[fmt.value]), fmt, "UTO", holder, dt.date(2034, 4, 15), number="L898902C3"
    )


def rate(fn: Callable[[], object], seconds: float) -> float:
    n = 0
    batch = 200
    # CPU time of this process: the machine is shared, and wall time would count other people's work.
    start = time.process_time()
    while True:
        for _ in range(batch):
            fn()
        n += batch
        elapsed = time.process_time() - start
        if elapsed >= seconds:
            return n / elapsed


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (rates are per CPU-second)")
    print(
        f"{'format':7} {'build+check/s':>14} {'build/s':>10} {'check/s':>10} {'parse/s':>10} {'from doc/s':>11}"
    )
    for fmt in DocumentFormat:
        record = _record(fmt)
        lines = build(record)
        assert check(lines, REFERENCE) == [], fmt
        doc = _document(fmt)
        both = rate(lambda r=record: check(build(r), REFERENCE), seconds)
        b = rate(lambda r=record: build(r), seconds)
        c = rate(lambda ls=lines: check(ls, REFERENCE), seconds)
        p = rate(lambda ls=lines: parse(ls, REFERENCE), seconds)
        d = rate(lambda dd=doc: mrz_lines(dd), seconds)
        print(f"{fmt.value:7} {both:14,.0f} {b:10,.0f} {c:10,.0f} {p:10,.0f} {d:11,.0f}")
        if fmt is DocumentFormat.TD3:
            td3 = both
    print(f"TD3 build+check: {td3:,.0f}/s = {td3 / GOAL_TD3:.2f} x the goal of {GOAL_TD3:,}/s")


if __name__ == "__main__":
    main()
