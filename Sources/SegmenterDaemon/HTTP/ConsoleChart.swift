/// The script of the console's "sizes over time" chart, a part of ``ConsolePage``: an SVG line per live segment, a
/// y axis of customers with round tick values, an x axis of (the browser's local) times, and a legend with each
/// segment's name and current size. It starts from the server's history (``SegmentSizeSeries``, in the page) and
/// adds a sample per live frame, thinned like the server's series, so the chart spans the whole run.
enum ConsoleChart {
    static let script = #"""
const svgNS = "http://www.w3.org/2000/svg";
const chartHeight = 220;
const margin = { left: 52, right: 14, top: 22, bottom: 34 };
const maxSamples = 720;
let sizeSamples = [];

function addSample(sample) {
  const last = sizeSamples[sizeSamples.length - 1];
  if (last && sample.at <= last.at) return;
  sizeSamples.push(sample);
  if (sizeSamples.length > maxSamples) {
    // Keep the newest sample and every other one before it, as the server does.
    sizeSamples = sizeSamples.filter((_, i) => (sizeSamples.length - 1 - i) % 2 === 0);
  }
}

// Round steps (1, 2 or 5 × 10^n, at least 1 customer) from 0 to the first tick at or above max.
function valueTicks(max, count) {
  const top = Math.max(1, max);
  const raw = top / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = Math.max(1, [1, 2, 5, 10].map(m => m * power).find(s => s >= raw));
  const ticks = [0];
  while (ticks[ticks.length - 1] < top) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

const second = 1000, minute = 60 * second, hour = 60 * minute, day = 24 * hour;
const timeSteps = [second, 2 * second, 5 * second, 10 * second, 15 * second, 30 * second, minute, 2 * minute,
  5 * minute, 10 * minute, 15 * minute, 30 * minute, hour, 2 * hour, 3 * hour, 6 * hour, 12 * hour, day, 2 * day,
  7 * day];
function timeTicks(from, to, count) {
  const step = timeSteps.find(s => (to - from) / s <= count) || timeSteps[timeSteps.length - 1];
  const ticks = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
  return { step, ticks };
}
function timeLabel(t, step) {
  const d = new Date(t);
  const two = n => String(n).padStart(2, "0");
  const clock = `${two(d.getHours())}:${two(d.getMinutes())}`;
  if (step < minute) return `${clock}:${two(d.getSeconds())}`;
  if (step < day) return clock;
  return `${d.getDate()} ${d.toLocaleString("en", { month: "short" })}`;
}

function svgElement(tag, attributes, content) {
  const el = document.createElementNS(svgNS, tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  if (content !== undefined) el.textContent = content;
  return el;
}

function drawHistory() {
  const svg = document.getElementById("history");
  const width = Math.max(320, Math.round(svg.clientWidth || 640));
  svg.setAttribute("viewBox", `0 0 ${width} ${chartHeight}`);
  svg.replaceChildren();
  const legend = document.getElementById("legend");
  legend.replaceChildren();
  const x0 = margin.left, x1 = width - margin.right, y0 = margin.top, y1 = chartHeight - margin.bottom;
  const sizeOf = (sample, id) => (sample.sizes.find(s => s.id === id) || { size: 0 }).size;
  const ids = liveSegments.map(s => s.id);
  const max = Math.max(0, ...sizeSamples.flatMap(sample => ids.map(id => sizeOf(sample, id))));
  const values = valueTicks(max, 4);
  const top = values[values.length - 1];
  const y = v => y1 - (y1 - y0) * v / top;
  for (const v of values) {
    svg.append(svgElement("line", { class: "grid", x1: x0, x2: x1, y1: y(v), y2: y(v) }));
    svg.append(svgElement("text", { class: "y-tick", x: x0 - 6, y: y(v) + 4, "text-anchor": "end" }, fmt(v)));
  }
  svg.append(svgElement("text", { class: "axis-title", x: 4, y: 12 }, "customers"));
  const first = sizeSamples.length ? sizeSamples[0].at : Date.now();
  const last = sizeSamples.length ? sizeSamples[sizeSamples.length - 1].at : first;
  const from = Math.min(first, last - 10 * second), to = last;
  const x = t => x0 + (x1 - x0) * (t - from) / (to - from);
  const times = timeTicks(from, to, Math.max(2, Math.floor((x1 - x0) / 90)));
  for (const t of times.ticks) {
    svg.append(svgElement("line", { class: "axis", x1: x(t), x2: x(t), y1: y1, y2: y1 + 4 }));
    svg.append(svgElement("text", { class: "x-tick", x: x(t), y: y1 + 17, "text-anchor": "middle" },
      timeLabel(t, times.step)));
  }
  svg.append(svgElement("text", { class: "axis-title", x: x1, y: chartHeight - 3, "text-anchor": "end" },
    "time (local)"));
  svg.append(svgElement("line", { class: "axis", x1: x0, x2: x0, y1: y0, y2: y1 }));
  svg.append(svgElement("line", { class: "axis", x1: x0, x2: x1, y1: y1, y2: y1 }));
  liveSegments.forEach((segment, i) => {
    const color = palette[i % palette.length];
    const points = sizeSamples.map(s => `${x(s.at).toFixed(1)},${y(sizeOf(s, segment.id)).toFixed(1)}`);
    svg.append(svgElement("polyline", { class: "series", "data-segment-id": segment.id, points: points.join(" "),
      fill: "none", stroke: color, "stroke-width": 2 }));
    if (sizeSamples.length) {
      const now = sizeSamples[sizeSamples.length - 1];
      svg.append(svgElement("circle", { cx: x(now.at), cy: y(sizeOf(now, segment.id)), r: 3, fill: color }));
    }
    const entry = document.createElement("span");
    entry.className = "legend-entry";
    entry.dataset.segmentId = segment.id;
    const swatch = document.createElement("i");
    swatch.style.background = color;
    entry.append(swatch, text("span", segment.name, "legend-name"), text("b", ` ${fmt(segment.size)}`));
    legend.append(entry);
  });
}
window.addEventListener("resize", drawHistory);
"""#
}
