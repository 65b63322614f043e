/// The console's page, compiled into the binary: markup, style and script in one document, with no external
/// asset, so it works on a machine with no network. It reads `/v1/segments`, `/v1/audiences`, `/v1/customers/{id}`,
/// `POST /v1/audiences/preview` and the live stream `/console/live` (server-sent events).
enum ConsolePage {
    /// The page with `initial` (a JSON object with the answers of `/v1/segments` and `/v1/audiences`) in it.
    static func html(initial: String) -> String {
        // In a script element only "</" could end it early.
        html.replacingOccurrences(of: "/*INITIAL*/null", with: initial.replacingOccurrences(of: "</", with: "<\\/"))
    }

    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Segmenter console</title>
<style>
:root { --bg: #f5f6f8; --card: #fff; --ink: #1d2330; --muted: #667085; --line: #e4e7ec; --accent: #3b5bdb; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg);
       color: var(--ink); }
header { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: baseline; padding: 14px 20px;
         background: var(--ink); color: #fff; }
header h1 { font-size: 18px; margin: 0; }
header .stat { color: #cfd4dc; }
header .stat b { color: #fff; }
#live { width: 9px; height: 9px; border-radius: 50%; background: #999; display: inline-block; margin-right: 6px; }
#live.on { background: #35c46a; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 16px; padding: 16px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px;
          min-width: 0; overflow-x: auto; }
section h2 { font-size: 15px; margin: 0 0 10px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { height: 6px; background: var(--accent); border-radius: 3px; opacity: .75; }
.profile { color: var(--muted); font-size: 12px; }
.muted { color: var(--muted); }
code { font-size: 12px; background: #f0f2f5; padding: 1px 4px; border-radius: 3px; word-break: break-word; }
ul.feed { list-style: none; margin: 0; padding: 0; max-height: 320px; overflow-y: auto; }
ul.feed li { padding: 4px 0; border-bottom: 1px solid var(--line); font-size: 13px; }
.cause { font-size: 11px; padding: 0 5px; border-radius: 8px; background: #eef1fb; color: var(--accent); }
form { display: flex; gap: 8px; flex-wrap: wrap; margin: 8px 0; }
input[type=text] { flex: 1 1 220px; padding: 7px 9px; border: 1px solid var(--line); border-radius: 6px;
                   font: inherit; }
button { padding: 7px 14px; border: 0; border-radius: 6px; background: var(--accent); color: #fff; font: inherit;
         cursor: pointer; }
.error { color: #b42318; }
svg { width: 100%; height: 220px; display: block; }
svg .grid { stroke: var(--line); }
svg .axis { stroke: #98a2b3; }
svg text { font-size: 11px; fill: var(--muted); font-variant-numeric: tabular-nums; }
.legend-entry { display: inline-block; margin-right: 14px; font-size: 12px; }
.legend-entry i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
#history-card { grid-column: 1 / -1; }
@media (max-width: 600px) { main { grid-template-columns: 1fr; padding: 8px; } header { padding: 10px; } }
</style>
</head>
<body>
<header>
  <h1><span id="live"></span>Segmenter</h1>
  <span class="stat">events <b id="events">–</b></span>
  <span class="stat">lag <b id="lag">–</b></span>
  <span class="stat">changes <b id="changes">–</b></span>
  <span class="stat">model <b id="model">–</b></span>
  <span class="stat">outbox <b id="outbox">–</b></span>
</header>
<main>
  <section id="history-card">
    <h2>Sizes over time</h2>
    <svg id="history" role="img" aria-label="customers per segment over time"></svg>
    <div class="legend" id="legend"></div>
  </section>
  <section id="segments-card">
    <h2>Segments</h2>
    <table id="segments">
      <thead><tr><th>segment</th><th class="num">customers</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>Audiences</h2>
    <table id="audiences">
      <thead><tr><th>audience</th><th class="num">customers</th><th>condition</th></tr></thead>
      <tbody></tbody>
    </table>
    <form id="preview-form">
      <input type="text" id="preview-when" placeholder="orders_30d >= 2 and revenue_30d > 150"
             aria-label="condition to preview">
      <button type="submit">Preview</button>
    </form>
    <div id="preview-result" class="muted">Preview a condition: how many customers it holds for now.</div>
  </section>
  <section>
    <h2>Changes by from → to</h2>
    <table id="transitions">
      <thead><tr><th>from</th><th>to</th><th class="num">changes</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>Latest changes</h2>
    <ul class="feed" id="recent"></ul>
  </section>
  <section>
    <h2>Latest audience events</h2>
    <ul class="feed" id="audience-recent"></ul>
  </section>
  <section>
    <h2>Customer</h2>
    <form id="customer-form">
      <input type="text" id="customer-id" placeholder="customer id, e.g. c-000042" aria-label="customer id">
      <button type="submit">Look up</button>
    </form>
    <div id="customer"></div>
  </section>
</main>
<script>
"use strict";
const palette = ["#3b5bdb", "#e8590c", "#2f9e44", "#ae3ec9", "#f08c00", "#0c8599", "#c2255c", "#5c940d"];
const recentChanges = [];
const recentAudienceEvents = [];
// The current model's segments, from /v1/segments and each live frame: the chart and its legend show only them.
let liveSegments = [];
const profileFeatures = ["orders_30d", "revenue_30d", "avg_order_value", "days_since_last_order",
  "days_since_last_event", "product_views_30d", "carts_30d", "cart_abandonment"];

function text(tag, value, cls) {
  const el = document.createElement(tag);
  el.textContent = value;
  if (cls) el.className = cls;
  return el;
}
function fmt(x) {
  if (typeof x !== "number") return String(x);
  return Math.abs(x) >= 100 || Number.isInteger(x) ? Math.round(x).toLocaleString("en") : x.toFixed(2);
}
async function getJSON(url, options) {
  const response = await fetch(url, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

async function loadSegments() {
  renderSegments(await getJSON("/v1/segments"));
}
function renderSegments(body) {
  const tbody = document.querySelector("#segments tbody");
  tbody.replaceChildren();
  const max = Math.max(1, ...body.segments.map(s => s.size));
  // In id order, as the live frames list them, so that a segment keeps its colour from one update to the next.
  liveSegments = body.segments.map(s => ({ id: s.id, name: s.name, size: s.size })).sort((a, b) => a.id - b.id);
  drawHistory();
  for (const s of body.segments) {
    const row = document.createElement("tr");
    row.dataset.segmentId = s.id;
    const name = text("td", "");
    name.append(text("span", s.name, "segment-name"));
    const top = profileFeatures.filter(k => k in s.profile).slice(0, 5)
      .map(k => `${k} ${fmt(s.profile[k])}`).join(" · ");
    name.append(document.createElement("br"), text("span", top, "profile"));
    const size = text("td", String(s.size), "num segment-size");
    const bar = text("td", "");
    bar.style.width = "30%";
    const fill = text("div", "", "bar");
    fill.style.width = `${Math.round(100 * s.size / max)}%`;
    bar.append(fill);
    row.append(name, size, bar);
    tbody.append(row);
  }
  if (!body.segments.length) tbody.append(text("tr", "No model yet: it starts after the first events."));
}

async function loadAudiences() {
  renderAudiences(await getJSON("/v1/audiences"));
}
function renderAudiences(body) {
  const tbody = document.querySelector("#audiences tbody");
  tbody.replaceChildren();
  for (const a of body.audiences) {
    const row = document.createElement("tr");
    row.dataset.audienceId = a.id;
    row.append(text("td", a.name, "audience-name"), text("td", String(a.size), "num audience-size"));
    const condition = text("td", "");
    condition.append(text("code", a.condition));
    row.append(condition);
    tbody.append(row);
  }
  if (!body.audiences.length) {
    const row = document.createElement("tr");
    row.append(text("td", "No audiences configured (the audiences section of the configuration)."));
    tbody.append(row);
  }
}

\#(ConsoleChart.script)
function render(frame) {
  document.getElementById("events").textContent = fmt(frame.events_total);
  document.getElementById("lag").textContent = fmt(frame.lag);
  document.getElementById("changes").textContent = fmt(frame.changes_total);
  document.getElementById("model").textContent = `v${frame.model_version}`;
  document.getElementById("outbox").textContent = fmt(frame.outbox_pending);
  liveSegments = frame.segments;
  addSample({ at: frame.at, sizes: frame.segments.map(s => ({ id: s.id, size: s.size })) });
  drawHistory();
  const transitions = document.querySelector("#transitions tbody");
  transitions.replaceChildren();
  for (const t of frame.transitions) {
    const row = document.createElement("tr");
    row.append(text("td", t.from), text("td", t.to), text("td", fmt(t.count), "num"));
    transitions.append(row);
  }
  merge(recentChanges, frame.recent_changes, c => `${c.customer_id}|${c.at}|${c.to}`);
  merge(recentAudienceEvents, frame.recent_audience_changes, c => `${c.customer_id}|${c.audience}|${c.at}|${c.event}`);
  const recent = document.getElementById("recent");
  recent.replaceChildren();
  for (const c of recentChanges) {
    const item = text("li", `${c.customer_id}: ${c.from || "—"} → ${c.to} `);
    item.append(text("span", c.cause, "cause"));
    recent.append(item);
  }
  const audienceRecent = document.getElementById("audience-recent");
  audienceRecent.replaceChildren();
  for (const c of recentAudienceEvents) {
    const item = text("li", `${c.customer_id}: ${c.event} ${c.audience} `);
    item.append(text("span", c.cause, "cause"));
    audienceRecent.append(item);
  }
  for (const a of frame.audiences) {
    const cell = document.querySelector(`#audiences tr[data-audience-id="${CSS.escape(a.id)}"] .audience-size`);
    if (cell) cell.textContent = String(a.size);
  }
}

// The stream sends each batch's latest changes; the page keeps the newest 30 it has seen, newest first.
function merge(list, incoming, key) {
  const known = new Set(list.map(key));
  list.unshift(...incoming.filter(c => !known.has(key(c))));
  list.splice(30);
}

function connect() {
  const live = document.getElementById("live");
  const source = new EventSource("/console/live");
  source.onopen = () => live.classList.add("on");
  source.onerror = () => live.classList.remove("on");
  source.onmessage = event => render(JSON.parse(event.data));
}

document.getElementById("preview-form").addEventListener("submit", async event => {
  event.preventDefault();
  const out = document.getElementById("preview-result");
  const when = document.getElementById("preview-when").value;
  out.className = "muted";
  out.textContent = "Counting…";
  try {
    const body = await getJSON("/v1/audiences/preview",
      { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ when }) });
    out.className = "";
    out.textContent = `${fmt(body.size)} of ${fmt(body.customers)} customers now` +
      (body.sample.length ? `, e.g. ${body.sample.slice(0, 5).join(", ")}` : "");
  } catch (error) {
    out.className = "error";
    out.textContent = error.message;
  }
});

document.getElementById("customer-form").addEventListener("submit", async event => {
  event.preventDefault();
  const out = document.getElementById("customer");
  const id = document.getElementById("customer-id").value.trim();
  out.replaceChildren();
  try {
    const c = await getJSON(`/v1/customers/${encodeURIComponent(id)}`);
    out.append(text("p", `${c.customer_id} · ${c.segment ? c.segment.name : "no segment yet"} · ` +
      `${c.event_count} events · last ${c.last_event_at}`));
    out.append(text("p", "Audiences: " + (c.audiences.length ? c.audiences.map(a => a.name).join(", ") : "none")));
    const features = document.createElement("table");
    for (const [name, value] of Object.entries(c.features).concat(Object.entries(c.traits || {}))) {
      const row = document.createElement("tr");
      row.append(text("td", name), text("td", value === null ? "—" : fmt(value), "num"));
      features.append(row);
    }
    out.append(features, text("h2", "Timeline"));
    const timeline = document.createElement("ul");
    timeline.className = "feed";
    for (const t of c.transitions) {
      const item = text("li", `${t.at}: ${t.from ? t.from.name : "—"} → ${t.to.name} `);
      item.append(text("span", t.cause, "cause"));
      timeline.append(item);
    }
    out.append(timeline);
  } catch (error) {
    out.append(text("p", error.message, "error"));
  }
});

async function refresh() {
  try {
    await Promise.all([loadSegments(), loadAudiences()]);
    document.body.dataset.loaded = "true";
  } catch (error) {
    console.error(error);
  }
}
// The server puts the API's current answers into the page, so it shows them before any request returns.
const initial = /*INITIAL*/null;
if (initial) {
  for (const sample of initial.history) addSample(sample);
  renderSegments(initial.segments);
  renderAudiences(initial.audiences);
  document.body.dataset.loaded = "true";
} else {
  refresh();
}
setInterval(refresh, 5000);
connect();
</script>
</body>
</html>
"""#
}
