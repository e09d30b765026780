"""Writes examples/tips/data/*.csv: small taxi-trip files, fixed seed."""
import csv
import os
import random

rng = random.Random(42)
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
os.makedirs(here, exist_ok=True)
for n in range(5):
    with open(os.path.join(here, f"trips-{n:02d}.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["tripId", "fareAmount", "tripDistance", "passengerCount"])
        for i in range(20):
            dist = round(rng.uniform(0.5, 15.0), 2)
            w.writerow([f"t{n}{i:03d}", round(2.5 + dist * 2.6 + rng.uniform(0, 3), 2), dist, rng.randint(1, 5)])
