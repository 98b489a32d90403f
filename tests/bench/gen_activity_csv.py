#!/usr/bin/env python3
"""Writes a synthetic activity CSV (SPEC §4) for the agent import benchmark.

  gen_activity_csv.py ROWS OUT.csv [MONTHS]

Rows are spread over MONTHS consecutive months ending two years ago (default
24), in random order, with a subject reference on every row and a wait on
two in three. Seeded: the same arguments give the same bytes.
"""
import datetime
import random
import sys

ACTIVITIES = ["pre_placement", "immunisation", "tb_screening",
              "management_referral", "self_referral", "health_surveillance",
              "counselling_session", "physio_session", "workplace_visit"]


def main():
    rows = int(sys.argv[1])
    out = sys.argv[2]
    months = int(sys.argv[3]) if len(sys.argv) > 3 else 24
    rng = random.Random(14)
    last = datetime.date.today().year - 2
    firsts = []
    y, m = last, 12
    for _ in range(months):
        firsts.append((y, m))
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    with open(out, "w", newline="") as f:
        f.write("date,activity,client_org,subject_ref,wait_days\n")
        buf = []
        for i in range(rows):
            y, m = firsts[rng.randrange(months)]
            day = rng.randint(1, 28)
            act = ACTIVITIES[rng.randrange(len(ACTIVITIES))]
            wait = "" if rng.randrange(3) == 0 else str(rng.randint(0, 60))
            buf.append("%04d-%02d-%02d,%s,RJ1,S%06d,%s\n" %
                       (y, m, day, act, rng.randrange(200000), wait))
            if len(buf) >= 10000:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf))


if __name__ == "__main__":
    main()
