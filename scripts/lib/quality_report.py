"""Writes bench-results/quality.md and quality.json: every measure beside issue 24's target, PASS / FAIL per data set,
and a verdict that is PASS only when the target holds on every data set that has the measure."""
import datetime, json, os

# key, label, target text, test(value, result) -> bool, format
TARGETS = [
    ("changes_per_customer", "changes per customer", "≤ 1.5", lambda v, r: v <= 1.5, "{:.2f}"),
    ("active_timer_share", "active in last 7 days with a `timer` move in the last 28", "≤ 10%",
     lambda v, r: v <= 0.10, "{:.1%}"),
    ("idle_lapsed_share", "idle ≥ 28 days in a lapsed / at-risk segment or stage", "≥ 80%",
     lambda v, r: v >= 0.80, "{:.1%}"),
    ("inertia_ratio", "inertia of behaviour clusters vs batch k-means (same k, same vectors)", "≤ 1.05×",
     lambda v, r: v <= 1.05, "{:.3f}×"),
    ("nmi", "NMI vs true personas: published / batch on simple features", "≥ batch",
     lambda v, r: v >= r["nmi_batch"], None),
    ("came_back_p_alive_auc", "last 14 days held out: AUC of p_alive for came back", "≥ 0.75",
     lambda v, r: v >= 0.75, "{:.3f}"),
    ("audience_agreement", "`days_since_last_event > 21` audience agrees with its rule", "≥ 99.5%",
     lambda v, r: v >= 0.995, "{:.2%}"),
    ("cdnow_mae", "CDNOW: holdout purchases MAE per customer", "≤ 0.80", lambda v, r: v <= 0.80, "{:.3f}"),
    ("cdnow_r", "CDNOW: Pearson r, predicted vs actual purchases", "≥ 0.68", lambda v, r: v >= 0.68, "{:.3f}"),
    ("cdnow_predicted_total", "CDNOW: total predicted vs actual purchases", "within ±10%",
     lambda v, r: abs(v / r["cdnow_actual_total"] - 1) <= 0.10, None),
    ("cdnow_p_alive_auc", "CDNOW: AUC of p_alive for bought again", "≥ 0.75", lambda v, r: v >= 0.75, "{:.3f}"),
    ("cdnow_revenue_mae", "CDNOW: holdout revenue MAE per customer", "≤ 32", lambda v, r: v <= 32, "{:.1f}"),
]
# Shown for reference, without a target.
REFERENCE = [
    ("idle_dormant_share", "idle ≥ 28 days in a segment named Dormant (reference)", "{:.1%}"),
    ("came_back_recency_auc", "last 14 days held out: AUC of recency for came back (reference)", "{:.3f}"),
    ("cdnow_rule_auc", "CDNOW: AUC of \"bought in the last 90 days\" for bought again (reference)", "{:.3f}"),
    ("unassigned", "customers without a segment at the end", "{}"),
    ("behaviour_k", "behaviour clusters (k of the batch reference)", "{}"),
    ("replay_seconds", "seconds of the full replay", "{:.1f}"),
]


def why_missing(key, name, binary):
    """Why a measure has no value on a data set: the data set itself, or what the binary lacks."""
    if key == "nmi":
        return "real data has no true personas"
    if key == "audience_agreement":
        return "the binary has no `replay --audience-changes-out`"
    if key.startswith("cdnow_"):
        return "CDNOW only" if binary.customers_out or name != "cdnow" else "the binary has no --customers-out"
    if key == "came_back_p_alive_auc":
        if name == "cdnow":
            return "CDNOW is judged on its 39-week holdout instead"
        return "the binary has no --customers-out" if not binary.customers_out else "no p_alive in --customers-out"
    return "too few customers to measure"


def cell(key, fmt, value, result):
    if key == "nmi":
        return f"{value:.3f} / {result['nmi_batch']:.3f}"
    if key == "cdnow_predicted_total":
        return f"{value:,.0f} vs {result['cdnow_actual_total']:,} ({value / result['cdnow_actual_total'] - 1:+.0%})"
    return fmt.format(value)


def verdicts(results, binary):
    rows = []
    for key, label, target, test, fmt in TARGETS:
        cells, passed, failed = [], [], []
        for name, r in results.items():
            v = r.get(key)
            if v is None:
                why = why_missing(key, name, binary)
                cells.append("—" if why == "CDNOW only" else f"n/a ({why})")
                continue
            ok = test(v, r)
            (passed if ok else failed).append(name)
            cells.append(f"{cell(key, fmt, v, r)} {'PASS' if ok else 'FAIL'}")
        have = len(passed) + len(failed)
        if have == 0:
            verdict = "n/a"
        elif failed:
            verdict = f"FAIL (holds on {len(passed)} of {have}; fails on {', '.join(failed)})"
        else:
            verdict = f"PASS (all {have})"
        rows.append({"measure": label, "key": key, "target": target, "cells": cells, "verdict": verdict})
    return rows


def write(out_dir, binary, results, quick, seconds):
    rows = verdicts(results, binary)
    names = list(results)
    lines = [f"# Issue 24 quality measures ({'QUICK=1, a tenth of each shop' if quick else 'full run'})", "",
             f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC with `{binary.path}`, "
             f"{seconds:.0f} s in all. How each measure is computed: docs/quality.md, \"How it is measured\".", ""]
    lines += [f"> {note}" for note in binary.notes] + ([""] if binary.notes else [])
    lines += ["| data set | customers | events |", "|---|---|---|"]
    lines += [f"| {n} | {results[n]['customers']:,} | {results[n]['events']:,} |" for n in names]
    lines += ["", "| measure | target | " + " | ".join(names) + " | verdict |",
              "|---|---|" + "---|" * len(names) + "---|"]
    for r in rows:
        lines.append(f"| {r['measure']} | {r['target']} | " + " | ".join(r["cells"]) + f" | **{r['verdict']}** |")
    for key, label, fmt in REFERENCE:
        values = [fmt.format(results[n][key]) if results[n].get(key) is not None else "—" for n in names]
        lines.append(f"| {label} | — | " + " | ".join(values) + " | — |")
    causes = sorted({c for r in results.values() for c in r.get("changes_by_cause", {})})
    for cause in causes:
        values = [f"{results[n].get('changes_by_cause', {}).get(cause, 0):.2f}" for n in names]
        lines.append(f"| changes per customer, cause `{cause}` | — | " + " | ".join(values) + " | — |")
    met = sum(1 for r in rows if r["verdict"].startswith("PASS"))
    measured = sum(1 for r in rows if r["verdict"] != "n/a")
    lines += ["", f"**Summary: {met} of {measured} measured targets hold on every data set; "
                  f"{len(rows) - measured} could not be measured here (the cells say why).** "
                  "A target that holds on some data sets and not others is not met."]
    with open(os.path.join(out_dir, "quality.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out_dir, "quality.json"), "w") as f:
        json.dump({"binary": binary.path, "quick": quick, "notes": binary.notes, "seconds": seconds,
                   "results": results, "targets": rows}, f, indent=2, default=str)
    print("\n".join(lines))
