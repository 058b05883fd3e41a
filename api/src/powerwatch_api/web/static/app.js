// Powerwatch live page: polls the public API (/api/v1) and draws plain SVG.
// No framework, no build step; every value from the API is inserted as text.
"use strict";

const API = "/api/v1";
const REFRESH_MS = 2000;
const WINDOW_MS = 30 * 60 * 1000;
const BIN_MS = 60 * 1000;
const MIN_SPAN_MS = 10 * 1000;
const MAX_TILES = 60;
const LIVE_KEEP_MS = 10 * 60 * 1000;
const SVG_NS = "http://www.w3.org/2000/svg";

const state = {
  selected: null, // device id shown in the chart
  seenEvents: new Set(), // reading ids already shown, to highlight the new ones
  live: new Map(), // device id -> [{t, w}] samples of last_power_w, as polled
  firstLoad: true,
};

const $ = (id) => document.getElementById(id);
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const time = (text) => new Date(text).toISOString().slice(11, 19);
const watts = (w) => Math.round(w).toLocaleString("en-US");

async function getJson(path) {
  const response = await fetch(API + path, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      detail = (await response.json()).detail || detail;
    } catch (_) {
      /* not problem+json */
    }
    throw new Error(`${path}: ${response.status} ${detail}`);
  }
  return response.json();
}

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function renderDevices(devices) {
  const box = $("devices");
  box.replaceChildren();
  box.dataset.count = String(devices.length);
  const now = Date.now();
  // Critical first, then silent, then normal; at most MAX_TILES tiles (1,000 devices load).
  const rank = { critical: 0, silent: 1, normal: 2 };
  const shown = devices
    .slice()
    .sort((a, b) => rank[a.status] - rank[b.status] || a.device_id.localeCompare(b.device_id))
    .filter((d, i) => i < MAX_TILES || d.device_id === state.selected);
  for (const d of devices) {
    const samples = state.live.get(d.device_id) || [];
    const at = Date.parse(d.last_reading_at);
    if (!samples.length || samples[samples.length - 1].t !== at) samples.push({ t: at, w: d.last_power_w });
    while (samples.length && samples[0].t < now - LIVE_KEEP_MS) samples.shift();
    state.live.set(d.device_id, samples);
  }
  for (const d of shown) {
    const tile = el("button", {
      class: `device ${d.status}${d.device_id === state.selected ? " selected" : ""}`,
      "data-device": d.device_id,
      "data-status": d.status,
      type: "button",
    });
    tile.append(el("b", {}, d.device_id), el("span", {}, `${watts(d.last_power_w)} W · ${d.status}`));
    tile.addEventListener("click", () => {
      state.selected = d.device_id;
      refresh();
    });
    box.append(tile);
  }
  if (devices.length > shown.length) box.append(el("span", { class: "more" }, `… and ${devices.length - shown.length} more`));
}

function renderChart(series, events) {
  const chart = $("chart");
  chart.replaceChildren();
  const W = 960, H = 300, L = 62, R = 12, T = 12, B = 26;
  const now = Date.now();
  const points = series ? series.points : [];
  const allLive = state.live.get(state.selected) || [];
  // The x-axis spans the data there is (at most WINDOW_MS back), never an empty stretch
  // before it began: samples and events at their time, each bin at the middle of the part
  // of its minute that has happened (a bin says only "some time in this minute").
  const recent = (t) => t >= now - WINDOW_MS && t <= now;
  const bins = points
    .map((p) => {
      const binStart = Date.parse(p.bin_start);
      return { binStart, t: (binStart + Math.min(now, binStart + BIN_MS)) / 2, p };
    })
    .filter((b) => recent(b.t));
  const times = allLive.map((s) => s.t).concat(events.map((e) => Date.parse(e.ts))).filter(recent);
  for (const b of bins) times.push(b.t);
  const end = times.length ? Math.max(...times) : now;
  const start = Math.min(end - MIN_SPAN_MS, times.length ? Math.min(...times) : end);
  const live = allLive.filter((s) => s.t >= start);
  const threshold = points.length ? points[points.length - 1].threshold_w
    : events.length ? events[0].threshold_w : 5000;
  let top = threshold * 1.25;
  for (const p of points) top = Math.max(top, p.max_power_w * 1.05);
  for (const s of live) top = Math.max(top, s.w * 1.05);
  for (const e of events) top = Math.max(top, e.power_w * 1.05);
  const x = (ms) => L + ((ms - start) / (end - start)) * (W - L - R);
  const y = (w) => T + (1 - w / top) * (H - T - B);

  chart.append(svg("line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }));
  chart.append(svg("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B }));
  for (let i = 0; i <= 4; i++) {
    const w = (top * i) / 4;
    chart.append(svg("text", { x: L - 6, y: y(w) + 4, "text-anchor": "end" }, watts(w)));
  }
  for (let i = 0; i <= 6; i++) {
    const t = start + ((end - start) * i) / 6;
    const anchor = i === 0 ? "start" : i === 6 ? "end" : "middle";
    chart.append(svg("text", { x: x(t), y: H - 8, "text-anchor": anchor }, time(iso(t))));
  }
  // Runs of consecutive minutes: the band and the line never bridge a missing bin.
  const runs = [];
  for (const b of bins) {
    const run = runs[runs.length - 1];
    if (run && b.binStart - run[run.length - 1].binStart === BIN_MS) run.push(b);
    else runs.push([b]);
  }
  for (const run of runs) {
    if (run.length > 1) {
      const upper = run.map((b) => `${x(b.t)},${y(b.p.max_power_w)}`);
      const lower = run.slice().reverse().map((b) => `${x(b.t)},${y(b.p.min_power_w)}`);
      chart.append(svg("polygon", { class: "band", points: upper.concat(lower).join(" ") }));
      const d = run.map((b, i) => `${i ? "L" : "M"}${x(b.t).toFixed(1)},${y(b.p.avg_power_w).toFixed(1)}`);
      chart.append(svg("path", { class: "series", d: d.join(" ") }));
    } else {
      const b = run[0];
      chart.append(svg("line", { class: "band-bar", x1: x(b.t), x2: x(b.t), y1: y(b.p.max_power_w), y2: y(b.p.min_power_w) }));
    }
  }
  for (const b of bins) chart.append(svg("circle", { class: "bin", cx: x(b.t), cy: y(b.p.avg_power_w), r: 2.5 }));
  if (live.length > 1) {
    const d = live.map((s, i) => `${i ? "L" : "M"}${x(s.t).toFixed(1)},${y(s.w).toFixed(1)}`);
    chart.append(svg("path", { class: "live", d: d.join(" ") }));
  }
  chart.append(svg("line", { class: "threshold", x1: L, x2: W - R, y1: y(threshold), y2: y(threshold) }));
  chart.append(svg("text", { x: W - R - 4, y: y(threshold) - 5, "text-anchor": "end" }, `threshold ${watts(threshold)} W`));
  for (const e of events) {
    const t = Date.parse(e.ts);
    if (t >= start) chart.append(svg("circle", { class: "event", cx: x(t), cy: y(e.power_w), r: 4 }));
  }
  chart.dataset.points = String(bins.length);
  chart.dataset.runs = String(runs.length);
  chart.dataset.start = String(start);
  chart.dataset.end = String(end);
  chart.dataset.livePoints = String(live.length);
  chart.dataset.threshold = String(threshold);
  $("chart-device").textContent = state.selected || "…";
}

function renderEvents(items) {
  const body = $("events").querySelector("tbody");
  body.replaceChildren();
  for (const e of items) {
    const row = el("tr", { "data-device": e.device_id, "data-reading": e.reading_id });
    row.addEventListener("click", () => {
      state.selected = e.device_id;
      refresh();
    });
    if (!state.firstLoad && !state.seenEvents.has(e.reading_id)) row.className = "new";
    for (const text of [time(e.ts), e.device_id, watts(e.power_w), watts(e.threshold_w), watts(e.excess_w)]) {
      row.append(el("td", {}, text));
    }
    body.append(row);
  }
  for (const e of items) state.seenEvents.add(e.reading_id);
  $("events").dataset.count = String(items.length);
}

function renderIncidents(items) {
  const body = $("incidents").querySelector("tbody");
  body.replaceChildren();
  for (const i of items) {
    const row = el("tr", { "data-device": i.device_id });
    for (const text of [time(i.start), i.device_id, i.duration_s.toFixed(0), watts(i.peak_power_w), i.energy_over_wh.toFixed(2)]) {
      row.append(el("td", {}, text));
    }
    body.append(row);
  }
  $("incidents").dataset.count = String(items.length);
}

async function refresh() {
  const status = $("status");
  try {
    const [devices, events, incidents] = await Promise.all([
      getJson("/devices"),
      getJson("/events?limit=25"),
      getJson("/incidents?limit=15"),
    ]);
    const items = devices.items;
    if (!state.selected || !items.some((d) => d.device_id === state.selected)) {
      // Default: the device of the newest critical event, else the first device.
      state.selected = events.items.length ? events.items[0].device_id : items.length ? items[0].device_id : null;
    }
    renderDevices(items);
    renderEvents(events.items);
    renderIncidents(incidents.items);
    if (state.selected) {
      const end = Date.now(), start = end - WINDOW_MS;
      const id = encodeURIComponent(state.selected);
      const [series, deviceEvents] = await Promise.all([
        getJson(`/devices/${id}/power?bin=1m&from=${iso(start)}&to=${iso(end + 60000)}`),
        getJson(`/events?device=${id}&limit=200&from=${iso(start)}`),
      ]);
      renderChart(series, deviceEvents.items);
    } else {
      renderChart(null, []);
    }
    state.firstLoad = false;
    status.className = "status";
    status.textContent = `updated ${time(iso(Date.now()))} UTC · ${items.length} devices · ${events.items.length} recent events`;
  } catch (error) {
    status.className = "status error";
    status.textContent = `API error: ${error.message} (retrying)`;
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
