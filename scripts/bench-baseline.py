#!/usr/bin/env python3
"""The pipeline a data engineer would otherwise write, as the baseline of scripts/bench.

confluent-kafka consumes the topic from the beginning; per-customer features live in dicts; an online k-means
assigns segments, and a change event is produced whenever a customer's segment changes (like Segmenter does).

  bench-baseline.py --brokers B --topic events --count N --model sklearn   # MiniBatchKMeans.partial_fit per poll
  bench-baseline.py --brokers B --topic events --count N --model river     # River KMeans, per event

Prints one JSON line: {"model": ..., "events": N, "seconds": ..., "events_per_s": ...}.
"""
import argparse, json, math, time, uuid

from confluent_kafka import Consumer, Producer

FEATURES = 8


def features(state, now_ms):
    days = max(0.0, (now_ms - state["last"]) / 86_400_000)
    orders = state["purchase"]
    return [
        math.log1p(state["sessions"]), math.log1p(state["views"]), math.log1p(state["searches"]),
        math.log1p(state["carts"]), math.log1p(orders), math.log1p(state["revenue"]),
        math.log1p(state["revenue"] / orders if orders else 0.0), math.log1p(days),
    ]


def update(state, event, ts):
    kind = event.get("type")
    if kind == "session_start":
        state["sessions"] += 1
    elif kind in ("page_view", "product_view"):
        state["views"] += 1
    elif kind == "search":
        state["searches"] += 1
    elif kind == "add_to_cart":
        state["carts"] += 1
    elif kind == "purchase":
        state["purchase"] += 1
        state["revenue"] += float((event.get("properties") or {}).get("value") or 0)
    state["last"] = max(state["last"], ts)


def parse_ts(value):
    if isinstance(value, (int, float)):
        return int(value)
    from datetime import datetime
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--brokers", required=True)
    p.add_argument("--topic", default="events")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--model", choices=["sklearn", "river"], required=True)
    p.add_argument("--k", type=int, default=5)
    a = p.parse_args()

    consumer = Consumer({"bootstrap.servers": a.brokers, "group.id": "baseline-" + uuid.uuid4().hex,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([a.topic])
    producer = Producer({"bootstrap.servers": a.brokers, "linger.ms": 5, "compression.codec": "lz4"})
    states, segments = {}, {}
    if a.model == "sklearn":
        import numpy as np
        from sklearn.cluster import MiniBatchKMeans
        model, fitted = MiniBatchKMeans(n_clusters=a.k, random_state=42, n_init=1), False
    else:
        from river import cluster
        model = cluster.KMeans(n_clusters=a.k, seed=42)

    consumed, changes, started = 0, 0, None
    while consumed < a.count:
        messages = consumer.consume(num_messages=1000, timeout=1.0)
        if not messages:
            continue
        if started is None:
            started = time.perf_counter()
        batch = []
        for m in messages:
            if m.error():
                continue
            consumed += 1
            try:
                event = json.loads(m.value())
                cid, ts = event["customer_id"], parse_ts(event["timestamp"])
            except Exception:
                producer.produce("segmenter-dlq", m.value(), key=m.key())
                continue
            state = states.setdefault(cid, {"sessions": 0, "views": 0, "searches": 0, "carts": 0,
                                            "purchase": 0, "revenue": 0.0, "last": ts})
            update(state, event, ts)
            vector = features(state, ts)
            if a.model == "river":
                x = dict(enumerate(vector))
                model.learn_one(x)
                label = model.predict_one(x)
                if segments.get(cid) != label:
                    segments[cid] = label
                    changes += 1
                    producer.produce("segment-changes", json.dumps({"customer_id": cid, "segment": label}), key=cid)
            else:
                batch.append((cid, vector))
        if a.model == "sklearn" and batch:
            import numpy as np
            X = np.array([v for _, v in batch])
            if len(X) >= a.k:
                model.partial_fit(X)
                fitted = True
            if fitted:
                for (cid, _), label in zip(batch, model.predict(X)):
                    label = int(label)
                    if segments.get(cid) != label:
                        segments[cid] = label
                        changes += 1
                        producer.produce("segment-changes", json.dumps({"customer_id": cid, "segment": label}),
                                         key=cid)
        producer.poll(0)
    producer.flush(30)
    seconds = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    print(json.dumps({"model": a.model, "events": consumed, "changes": changes, "seconds": round(seconds, 3),
                      "events_per_s": round(consumed / seconds) if seconds else None}))


if __name__ == "__main__":
    main()
