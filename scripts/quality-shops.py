#!/usr/bin/env python3
"""An independent shop generator for scripts/quality: written apart from `segmenter generate`, so that the engine is
measured on shops it was not shaped on.

  quality-shops.py --shape NAME [--scale 1.0] --out events.ndjson --truth truth.csv
  quality-shops.py --list

Writes native events (DESIGN §3) in timestamp order and customer_id,persona per customer. Deterministic: the shape
name seeds the random generator. Shapes differ in events per customer (heavy-tailed, 3 to 100), one-visit share
(5–60%), how much personas overlap, weekly cycles, lapses and comebacks, the number of true personas (4–8) and the
timeline (120–180 days).
"""
import argparse, datetime, math, random, sys, zlib

# Each persona: relative weights of actions inside a session, mean actions per session, chance a session buys,
# order value (median, spread), mean days between sessions, number of categories, mobile share, favourite channel,
# and how active it is (a factor on the shape's events per customer: personas differ in volume, not only in mix).
PERSONAS = {
    "browser":        dict(mix=dict(page_view=6, product_view=3, search=0.5, add_to_cart=0.2), actions=6,
                           buy=0.02, value=(30, 0.5), gap=9, cats=5, mobile=0.7, channel="social", activity=0.6),
    "comparer":       dict(mix=dict(product_view=8, search=3, page_view=1, add_to_cart=0.5), actions=10,
                           buy=0.10, value=(120, 0.6), gap=6, cats=2, mobile=0.3, channel="organic", activity=1.3),
    "cart_abandoner": dict(mix=dict(product_view=4, add_to_cart=3, remove_from_cart=1, checkout_start=0.8),
                           actions=6, buy=0.03, value=(60, 0.5), gap=8, cats=3, mobile=0.6, channel="email",
                           activity=1.0),
    "big_spender":    dict(mix=dict(product_view=3, add_to_cart=1.5, checkout_start=1, page_view=1), actions=5,
                           buy=0.55, value=(400, 0.5), gap=14, cats=3, mobile=0.2, channel="direct", activity=0.8),
    "bargain_hunter": dict(mix=dict(search=3, product_view=4, add_to_cart=1.5, page_view=1), actions=7,
                           buy=0.40, value=(18, 0.4), gap=5, cats=6, mobile=0.5, channel="affiliate", activity=1.6),
    "loyal_regular":  dict(mix=dict(product_view=2, add_to_cart=1.5, checkout_start=1, page_view=1), actions=4,
                           buy=0.60, value=(55, 0.3), gap=7, cats=2, mobile=0.5, channel="direct", activity=2.2),
    "searcher":       dict(mix=dict(search=6, page_view=2, product_view=1), actions=5,
                           buy=0.05, value=(40, 0.5), gap=10, cats=4, mobile=0.4, channel="organic", activity=0.5),
    "refunder":       dict(mix=dict(product_view=3, add_to_cart=2, checkout_start=1), actions=5,
                           buy=0.45, value=(90, 0.5), gap=10, cats=3, mobile=0.4, channel="paid", activity=1.0),
}

# name: personas, customers (full run), events-per-customer Pareto shape and median, one-visit share, overlap
# (chance a session borrows another persona's habits), weekly cycle strength, mean active life in days, comeback
# chance, timeline days.
SHAPES = {
    "sparse-fashion":   dict(k=5, customers=30000, alpha=1.3, median=6, one_visit=0.35, overlap=0.30, weekly=0.2,
                             life=30, comeback=0.10, days=150),
    "dense-grocery":    dict(k=4, customers=20000, alpha=1.1, median=35, one_visit=0.05, overlap=0.15, weekly=0.8,
                             life=120, comeback=0.05, days=120),
    "overlap-heavy":    dict(k=6, customers=20000, alpha=1.2, median=12, one_visit=0.25, overlap=0.45, weekly=0.3,
                             life=60, comeback=0.15, days=160),
    "weekend-shop":     dict(k=5, customers=25000, alpha=1.4, median=10, one_visit=0.30, overlap=0.25, weekly=0.9,
                             life=45, comeback=0.20, days=140),
    "churny-electronics": dict(k=7, customers=25000, alpha=1.5, median=8, one_visit=0.45, overlap=0.35,
                               weekly=0.1, life=20, comeback=0.30, days=180),
    "many-personas":    dict(k=8, customers=20000, alpha=1.2, median=14, one_visit=0.20, overlap=0.40, weekly=0.4,
                             life=80, comeback=0.10, days=170),
    "long-tail-books":  dict(k=6, customers=40000, alpha=0.9, median=4, one_visit=0.27, overlap=0.30, weekly=0.2,
                             life=50, comeback=0.25, days=180),
    "loyal-core":       dict(k=4, customers=20000, alpha=1.0, median=25, one_visit=0.10, overlap=0.20, weekly=0.6,
                             life=150, comeback=0.05, days=130),
}
START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
CATEGORIES = ["shoes", "dresses", "books", "phones", "toys", "garden", "beauty", "sports", "kitchen", "music"]
# Date strings per day of the timeline: formatting with datetime per event was most of the generator's time.
DAYS = [(START + datetime.timedelta(days=d)).strftime("%Y-%m-%d") for d in range(400)]


def pick(rng, weights):
    total = sum(weights.values())
    x = rng.random() * total
    for key, w in weights.items():
        x -= w
        if x <= 0:
            return key
    return key


def weekly_shift(rng, day, strength, favourite):
    """Moves a session towards the customer's favourite weekday with the shape's strength: a weekly cycle."""
    if rng.random() < strength:
        return day + (favourite - int(day) % 7) % 7
    return day


def customer_events(rng, cid, shape, persona_names):
    persona_name = persona_names[int(rng.random() ** 1.3 * len(persona_names))]  # unequal persona sizes
    persona = PERSONAS[persona_name]
    # A heavy tail (Pareto from the shape's median), scaled by how active the persona is.
    target = int(shape["median"] * persona["activity"] * rng.paretovariate(shape["alpha"]))
    target = max(3, min(100, target))
    one_visit = rng.random() < shape["one_visit"]
    if one_visit:
        target = min(target, 15)
    days = shape["days"]
    arrival = rng.random() * days * 0.9
    # A customer who is not a one-visit customer stays for at least two of their usual gaps.
    life_end = arrival + max(rng.expovariate(1.0 / shape["life"]), 2.5 * persona["gap"])
    comeback = None
    if rng.random() < shape["comeback"]:
        comeback = life_end + 25 + rng.random() * 40  # away at least 25 days, then back for a while
    favourite_day = rng.randrange(7)
    categories = rng.sample(CATEGORIES, min(persona["cats"], len(CATEGORIES)))
    events, day, session = [], arrival, 0
    while len(events) < target:
        if day > days:
            break
        if day > life_end and comeback is None:
            break
        if day > life_end and comeback is not None:
            day, life_end, comeback = max(day, comeback), comeback + rng.expovariate(1.0 / 20), None
            continue
        session += 1
        habits = persona
        if rng.random() < shape["overlap"]:
            habits = PERSONAS[rng.choice(list(PERSONAS))]
        t = day * 86400 + rng.gauss(16, 4) % 24 * 3600
        sid = f"s-{cid}-{session}"
        device = "mobile" if rng.random() < persona["mobile"] else "desktop"
        channel = persona["channel"] if rng.random() < 0.7 else rng.choice(["email", "paid", "social", "organic"])
        events.append((t, cid, "session_start", sid, device, channel, None))
        n = 1 if one_visit and target <= 3 else max(1, int(rng.expovariate(1.0 / habits["actions"])) + 1)
        if one_visit:
            n = target - 1
        for _ in range(n):
            t += rng.expovariate(1.0 / 40)
            events.append((t, cid, pick(rng, habits["mix"]), sid, device, channel, rng.choice(categories)))
        if rng.random() < habits["buy"]:
            t += rng.expovariate(1.0 / 60)
            category = rng.choice(categories)
            value = round(rng.lognormvariate(math.log(habits["value"][0]), habits["value"][1]), 2)
            events.append((t, cid, "purchase", sid, device, channel, (category, value, 1 + int(rng.expovariate(1)))))
            if persona_name == "refunder" and rng.random() < 0.4:
                events.append((t + 86400 * (2 + rng.random() * 10), cid, "refund", sid, device, channel,
                               (category, value, 1)))
        if one_visit:
            break
        day = weekly_shift(rng, day + rng.expovariate(1.0 / persona["gap"]), shape["weekly"], favourite_day)
    events = sorted(e for e in events if e[0] < days * 86400)[:100]
    return persona_name, events if len(events) >= 3 else []


def line(number, event):
    t, cid, kind, sid, device, channel, extra = event
    ms = int(t * 1000)
    day, ms = divmod(ms, 86_400_000)
    stamp = f"{DAYS[day]}T{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}Z"
    props = f'"device":"{device}","channel":"{channel}"'
    if isinstance(extra, str):
        props += f',"category":"{extra}"'
    elif extra is not None:
        category, value, quantity = extra
        props += (f',"category":"{category}","value":{value},"quantity":{quantity},'
                  f'"product_id":"p-{category}-{quantity}"')
    return (f'{{"event_id":"q-{number:09d}","customer_id":"{cid}","type":"{kind}","timestamp":"{stamp}",'
            f'"session_id":"{sid}","properties":{{{props}}}}}\n')


def generate(name, scale, out, truth):
    shape = SHAPES[name]
    rng = random.Random(zlib.crc32(name.encode()))
    persona_names = sorted(PERSONAS)
    rng.shuffle(persona_names)
    persona_names = persona_names[: shape["k"]]
    events, customers = [], max(200, int(shape["customers"] * scale))
    with open(truth, "w") as t:
        t.write("customer_id,persona\n")
        for i in range(customers):
            cid = f"{name[:3]}-{i:06d}"
            persona, evs = customer_events(rng, cid, shape, persona_names)
            if evs:
                t.write(f"{cid},{persona}\n")
                events.extend(evs)
    events.sort(key=lambda e: e[0])
    with open(out, "w") as f:
        f.writelines(line(i + 1, e) for i, e in enumerate(events))
    return customers, len(events)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shape", choices=sorted(SHAPES))
    p.add_argument("--scale", type=float, default=1.0, help="fraction of the shape's customers (QUICK=1 uses 0.1)")
    p.add_argument("--out")
    p.add_argument("--truth")
    p.add_argument("--list", action="store_true", help="print the shape names and exit")
    a = p.parse_args()
    if a.list:
        print("\n".join(SHAPES))
        return
    if not (a.shape and a.out and a.truth):
        sys.exit("quality-shops.py: give --shape, --out and --truth (or --list to see the shapes)")
    customers, count = generate(a.shape, a.scale, a.out, a.truth)
    print(f"{a.shape}: {customers} customers, {count} events -> {a.out}")


if __name__ == "__main__":
    main()
