"""Issue 24's measures, computed only from the events and what `segmenter replay` wrote."""
import csv, datetime, json, math

import numpy as np

import quality_metrics as m

DAY = 86400.0
LAPSED_WORDS = ("lapsed", "at risk")
LAPSED_STAGES = ("at_risk", "lapsed")


def parse_time(stamp):
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def read_events(path, holdout_days=14):
    """Per customer: first and last event time, the last before end − holdout_days, sessions, counts per type and
    revenue; the stream's end; and how many lines (the file is in time order) come before that cutoff."""
    customers, times = {}, []
    with open(path) as f:
        for row in f:
            e = json.loads(row)
            t = parse_time(e["timestamp"])
            times.append(t)
            c = customers.get(e["customer_id"])
            if c is None:
                c = customers[e["customer_id"]] = {"first": t, "last": t, "sessions": set(), "types": {},
                                                   "revenue": 0.0, "times": []}
            c["last"] = max(c["last"], t)
            c["first"] = min(c["first"], t)
            c["times"].append(t)
            c["sessions"].add(e.get("session_id"))
            c["types"][e["type"]] = c["types"].get(e["type"], 0) + 1
            if e["type"] == "purchase":
                c["revenue"] += float((e.get("properties") or {}).get("value") or 0)
    end = max(times) if times else 0.0
    cutoff = end - holdout_days * DAY
    for c in customers.values():
        before = [t for t in c.pop("times") if t < cutoff]
        c["last_before"] = max(before) if before else None
    lines_before = next((i for i, t in enumerate(times) if t >= cutoff), len(times))
    return customers, end, lines_before


def simple_features(customers, end):
    """The batch reference's own simple features: log1p counts, money and recency, standardised."""
    rows = []
    for c in customers.values():
        t = c["types"]
        orders = t.get("purchase", 0)
        rows.append([math.log1p(len(c["sessions"])), math.log1p(t.get("page_view", 0) + t.get("product_view", 0)),
                     math.log1p(t.get("search", 0)), math.log1p(t.get("add_to_cart", 0)), math.log1p(orders),
                     math.log1p(c["revenue"]), math.log1p(c["revenue"] / orders if orders else 0.0),
                     math.log1p((end - c["last"]) / DAY)])
    x = np.asarray(rows, float)
    return (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)


def read_assignments(path):
    with open(path) as f:
        return {r["customer_id"]: (r["segment_id"], r["segment_name"]) for r in csv.DictReader(f) if r["segment_id"]}


def read_features(path):
    with open(path) as f:
        reader = csv.reader(f)
        next(reader)
        return {r[0]: [float(v) for v in r[1:]] for r in reader}


def read_customers_out(path):
    """The records `--customers-out` writes (those of `segmenter export --format ndjson`), by customer id."""
    records = {}
    with open(path) as f:
        for row in f:
            r = json.loads(row)
            records[r.get("customer_id") or r.get("id")] = r
    return records


def lapsed(segment_name, record):
    stage = (record or {}).get("lifecycle")
    if isinstance(stage, dict):
        stage = stage.get("stage")
    return stage in LAPSED_STAGES or any(w in (segment_name or "").lower() for w in LAPSED_WORDS)


def measure_replay(events, end, out, truth=None, records=None):
    """The table's measures for one full replay. out: paths of the replay's outputs; truth: {id: persona}."""
    res = {"customers": len(events)}
    changes, causes, timer_recent = 0, {}, set()
    with open(out["changes"]) as f:
        for row in f:
            c = json.loads(row)
            changes += 1
            causes[c["cause"]] = causes.get(c["cause"], 0) + 1
            if c["cause"] == "timer" and parse_time(c["at"]) >= end - 28 * DAY:
                timer_recent.add(c["customer_id"])
    res["changes_per_customer"] = changes / len(events)
    res["changes_by_cause"] = {k: v / len(events) for k, v in sorted(causes.items())}
    active = [cid for cid, c in events.items() if c["last"] >= end - 7 * DAY]
    res["active_timer_share"] = sum(1 for cid in active if cid in timer_recent) / len(active) if active else None
    assignments = read_assignments(out["assignments"])
    res["unassigned"] = sum(1 for cid in events if cid not in assignments)
    idle = [cid for cid, c in events.items() if c["last"] <= end - 28 * DAY]
    records = records or {}
    res["idle_lapsed_share"] = (sum(1 for cid in idle if lapsed(assignments.get(cid, (None, ""))[1], records.get(cid)))
                                / len(idle)) if idle else None
    # Today's engine names its idle segment "Dormant"; shown beside the target's measure for reference.
    res["idle_dormant_share"] = (sum(1 for cid in idle if "dormant" in assignments.get(cid, (None, ""))[1].lower())
                                 / len(idle)) if idle else None
    res.update(inertia_ratio(assignments, read_features(out["features"]), records))
    if truth:
        res.update(nmi_pair(events, end, assignments, truth))
    if out.get("audiences"):
        res["audience_agreement"] = audience_agreement(events, end, out["audiences"])
    return res


def inertia_ratio(assignments, features, records):
    """Published behaviour clusters against a batch k-means with the same k on the same exported vectors."""
    ids = [cid for cid, (sid, name) in assignments.items()
           if cid in features and not lapsed(name, records.get(cid))]
    if len(ids) < 10:
        return {"inertia_ratio": None}
    labels = [assignments[cid][0] for cid in ids]
    k = len(set(labels))
    vectors = np.asarray([features[cid] for cid in ids])
    if k < 2:
        return {"inertia_ratio": None, "behaviour_k": k}
    published = m.partition_inertia(vectors, labels)
    _, batch = m.batch_kmeans(vectors, k)
    return {"inertia_ratio": published / batch if batch > 0 else None, "behaviour_k": k,
            "behaviour_customers": len(ids)}


def nmi_pair(events, end, assignments, truth):
    """NMI of the published segments and of a batch k-means on simple features, both against the true personas,
    over the customers that have a segment (the same k as the published segments)."""
    ids = [cid for cid in events if cid in assignments and cid in truth]
    if len(ids) < 10:
        return {"nmi": None, "nmi_batch": None}
    published = [assignments[cid][0] for cid in ids]
    k = max(2, len(set(published)))
    x = simple_features({cid: events[cid] for cid in ids}, end)
    labels, _ = m.batch_kmeans(x, k)
    personas = [truth[cid] for cid in ids]
    return {"nmi": m.nmi(published, personas), "nmi_batch": m.nmi(list(labels), personas)}


def audience_agreement(events, end, path):
    """Membership of the `days_since_last_event > 21` audience at the watermark (the last Entered / Exited per
    customer) against the rule evaluated on the events at the stream's end."""
    member = {}
    with open(path) as f:
        for row in f:
            e = json.loads(row)
            if e.get("properties", {}).get("audience_key") == "idle21":
                member[e["userId"]] = e["event"] == "Audience Entered"
    agree = sum(1 for cid, c in events.items() if member.get(cid, False) == ((end - c["last"]) / DAY > 21))
    return agree / len(events)


def came_back(events, cutoff, records=None):
    """Replaying all but the last 14 days: AUC of p_alive (if there are predictions) and of recency, for "has an
    event in the last 14 days", over the customers seen before the cutoff."""
    labels, recency, p_alive = [], [], []
    for cid, c in events.items():
        if c["last_before"] is None:
            continue
        labels.append(1 if c["last"] >= cutoff else 0)
        recency.append(-(cutoff - c["last_before"]))
        p_alive.append(((records or {}).get(cid, {}).get("predictions") or {}).get("p_alive"))
    res = {"came_back_recency_auc": m.auc(recency, labels)}
    if records is not None and all(p is not None for p in p_alive):
        res["came_back_p_alive_auc"] = m.auc(p_alive, labels)
    return res
