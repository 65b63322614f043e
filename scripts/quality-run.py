#!/usr/bin/env python3
"""Runs issue 24's measures on independent shops, CDNOW and the retentioneering clickstream (scripts/quality).

  quality-run.py --binary PATH --work DIR --out bench-results [--quick] [--only NAME,...]
"""
import argparse, datetime, os, subprocess, sys, time

sys.dont_write_bytecode = True  # no __pycache__ in the checkout, also when run without scripts/quality
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import quality_measures as qm  # noqa: E402
import quality_metrics as m  # noqa: E402
import quality_real  # noqa: E402
import quality_report  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPLAY_TIMEOUT = 600  # one replay longer than the whole run's budget means a debug build or a hang
AUDIENCE = ('audiences:\n  - id: idle21\n    name: Idle over 21 days\n'
            '    when: "days_since_last_event > 21"\n')


class Binary:
    """The segmenter under test and what it knows: --customers-out, predictions.horizon_days."""

    def __init__(self, path, work):
        self.path, self.work = path, work
        help_text = subprocess.run([path, "replay", "--help"], capture_output=True, text=True).stdout
        self.customers_out = "--customers-out" in help_text
        self.audiences_out = "--audience-changes-out" in help_text
        self.notes = []
        if not self.customers_out:
            self.notes.append("The binary has no `replay --customers-out`: lifecycle and predictions are n/a.")

    def replay(self, name, events, horizon=None):
        """Replays events with the idle audience (and predictions.horizon_days if given); returns output paths."""
        base = os.path.join(self.work, name)
        out = {"changes": base + ".changes.ndjson", "assignments": base + ".assignments.csv",
               "features": base + ".features.csv"}
        args = [self.path, "replay", "--input", events, "--changes-out", out["changes"],
                "--assignments-out", out["assignments"], "--features-out", out["features"]]
        if self.audiences_out:
            out["audiences"] = base + ".audiences.ndjson"
            args += ["--audience-changes-out", out["audiences"]]
        if self.customers_out:
            out["customers"] = base + ".customers.ndjson"
            args += ["--customers-out", out["customers"]]
        config = AUDIENCE + (f"predictions:\n  horizon_days: {horizon}\n" if horizon else "")
        for attempt in (config, AUDIENCE):
            with open(base + ".yaml", "w") as f:
                f.write(attempt)
            started = time.time()
            try:
                run = subprocess.run(args + ["--config", base + ".yaml"], capture_output=True, text=True,
                                     timeout=REPLAY_TIMEOUT)
            except subprocess.TimeoutExpired:
                sys.exit(f"quality: `segmenter replay` of {events} took over {REPLAY_TIMEOUT} s and was stopped; "
                         "the run is meant to finish in 10 minutes: measure a release build (QUICK=1 for less)")
            if run.returncode == 0:
                out["seconds"] = time.time() - started
                return out
            if attempt is config and horizon and "predictions" in run.stderr:
                note = ("The binary does not know `predictions.horizon_days` (it said: "
                        f"{run.stderr.strip().splitlines()[-1][:160]}); replayed without it.")
                if note not in self.notes:
                    self.notes.append(note)
                continue
            sys.exit(f"quality: `segmenter replay` failed on {events} (exit {run.returncode}): "
                     f"{run.stderr.strip()[-500:]}\nFix the binary or the input, then run scripts/quality again.")
        raise AssertionError("unreachable")

    def records(self, out):
        return qm.read_customers_out(out["customers"]) if "customers" in out else None


def head(src, dst, count):
    """Copies the first count lines: the events before the holdout cutoff, as the file is in time order."""
    with open(src) as f, open(dst, "w") as o:
        for _, row in zip(range(count), f):
            o.write(row)


def clickstream_like(binary, name, events_path, truth):
    """A full replay for the table's measures, and a replay of all but the last 14 days for the came-back AUCs."""
    events, end, lines_before = qm.read_events(events_path)
    out = binary.replay(name, events_path)
    result = qm.measure_replay(events, end, out, truth, binary.records(out))
    result["events"] = sum(sum(c["types"].values()) for c in events.values())
    result["replay_seconds"] = out["seconds"]
    records = None
    if binary.customers_out:
        before_path = os.path.join(binary.work, name + ".before.ndjson")
        head(events_path, before_path, lines_before)
        records = binary.records(binary.replay(name + "-before", before_path))
    result.update(qm.came_back(events, end - 14 * qm.DAY, records))
    return result


class ShopMaker:
    """Generates the next shop while the current one is replayed and measured: generation is single-threaded."""

    def __init__(self, work, scale):
        self.work, self.scale, self.running = work, scale, {}

    def start(self, name):
        if name in self.running:
            return
        paths = (os.path.join(self.work, name + ".ndjson"), os.path.join(self.work, name + ".truth.csv"))
        proc = subprocess.Popen([sys.executable, os.path.join(HERE, "quality-shops.py"), "--shape", name,
                                 "--scale", str(self.scale), "--out", paths[0], "--truth", paths[1]],
                                stdout=subprocess.DEVNULL)
        self.running[name] = (proc, paths)

    def wait(self, name):
        self.start(name)
        proc, paths = self.running.pop(name)
        if proc.wait() != 0:
            sys.exit(f"quality: generating shop {name} failed (exit {proc.returncode}); "
                     f"run scripts/quality-shops.py --shape {name} to see why")
        return paths


def shop(binary, maker, name):
    events_path, truth_path = maker.wait(name)
    with open(truth_path) as f:
        next(f)
        truth = dict(line.strip().split(",") for line in f)
    return clickstream_like(binary, name, events_path, truth)


def cdnow(binary, cache):
    master = quality_real.fetch_wheel("lifetimes", "lifetimes/datasets/CDNOW_master.txt", cache, sys.executable)
    calibration = os.path.join(binary.work, "cdnow.ndjson")
    truth = quality_real.cdnow(master, calibration)
    events, end, _ = qm.read_events(calibration)
    out = binary.replay("cdnow", calibration, horizon=273)
    result = qm.measure_replay(events, end, out, None, binary.records(out))
    result["events"] = sum(sum(c["types"].values()) for c in events.values())
    result["replay_seconds"] = out["seconds"]
    ids = sorted(truth)
    bought_again = [1 if truth[c]["holdout_days"] > 0 else 0 for c in ids]
    cutoff = datetime.datetime.combine(quality_real.CDNOW_CUTOFF, datetime.time(), datetime.timezone.utc)
    recent = [1 if (cutoff.date() - truth[c]["last"]).days < 90 else 0 for c in ids]
    result["cdnow_rule_auc"] = m.auc(recent, bought_again)
    result["cdnow_actual_total"] = sum(truth[c]["holdout_days"] for c in ids)
    records = binary.records(out)
    if records is not None:
        predictions = [(records.get(c) or {}).get("predictions") or {} for c in ids]
        orders = [p.get("expected_orders") for p in predictions]
        if all(o is not None for o in orders):
            actual = [truth[c]["holdout_days"] for c in ids]
            result["cdnow_mae"] = m.mae(orders, actual)
            result["cdnow_r"] = m.pearson(orders, actual)
            result["cdnow_predicted_total"] = float(sum(orders))
            result["cdnow_p_alive_auc"] = m.auc([p.get("p_alive", 0) for p in predictions], bought_again)
            result["cdnow_revenue_mae"] = m.mae([p.get("expected_revenue", 0) for p in predictions],
                                                [truth[c]["holdout_revenue"] for c in ids])
    return result


def ecom(binary, cache):
    path = quality_real.fetch_wheel("retentioneering", "retentioneering/datasets/ecom.csv.gz", cache, sys.executable)
    events_path = os.path.join(binary.work, "ecom.ndjson")
    quality_real.ecom(path, events_path)
    return clickstream_like(binary, "ecom", events_path, None)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", required=True)
    p.add_argument("--work", required=True, help="scratch directory for events and replay outputs")
    p.add_argument("--cache", required=True, help="where the downloaded wheels are kept between runs")
    p.add_argument("--out", required=True, help="directory for quality.md and quality.json")
    p.add_argument("--quick", action="store_true", help="a tenth of each shop's customers")
    p.add_argument("--only", help="comma-separated data sets (shop names, cdnow, ecom)")
    a = p.parse_args()
    print(m.self_check(), flush=True)
    os.makedirs(a.work, exist_ok=True)
    os.makedirs(a.out, exist_ok=True)
    binary = Binary(os.path.abspath(a.binary), a.work)
    all_shapes = list(shop_shapes())
    names = all_shapes + ["cdnow", "ecom"]
    if a.only:
        names = [n for n in names if n in a.only.split(",")]
    results, started = {}, time.time()
    shapes = [n for n in names if n in all_shapes]
    maker = ShopMaker(a.work, 0.1 if a.quick else 1.0)
    for name in names:
        if name in shapes and shapes.index(name) + 1 < len(shapes):
            maker.start(shapes[shapes.index(name) + 1])
        t = time.time()
        if name == "cdnow":
            results[name] = cdnow(binary, a.cache)
        elif name == "ecom":
            results[name] = ecom(binary, a.cache)
        else:
            results[name] = shop(binary, maker, name)
        results[name]["seconds"] = time.time() - t
        print(f"{name}: {results[name]['customers']} customers, {results[name]['events']} events, "
              f"{results[name]['seconds']:.0f} s", flush=True)
    quality_report.write(a.out, binary, results, quick=a.quick, seconds=time.time() - started)


def shop_shapes():
    """The shape names of quality-shops.py (a script, so loaded by path rather than imported by name)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("quality_shops", os.path.join(HERE, "quality-shops.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SHAPES


if __name__ == "__main__":
    main()
