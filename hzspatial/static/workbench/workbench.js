/* hzspatial workbench — the page over the HTTP API (hzspatial/workbench/app.py).
 *
 * Every text that comes from a user or a file (facility, area, proposal and study names,
 * error lines) reaches the page through textContent or DOM elements, never as HTML.
 * Colours follow map.html (hzspatial/maps/style.py).
 */
"use strict";

const COLOURS = {
  none: "#cb181d",        // no facility within the threshold (NO_FACILITY)
  below: "#99000d",       // in reach, below a per-capita standard (BELOW_STANDARD)
  street: "#b5b5b5",      // STREET_GREY
  notCounted: "#8c8c8c",  // RESIDENTS_GREY
  gained: "#1a9850", lost: "#d73027", newPoint: "#3182bd", same: "#d9d9d9",
  verdict: { pass: "#1a9850", fail: "#d73027", "cannot check": "#fdae61" },
};
const REACH = { NOT_COUNTED: 0, COVERED: 1, BELOW: 2, NONE: 3, NEW: 255 };
const VERDICT_LABEL = { pass: "通过 / pass", fail: "不通过 / fail", "cannot check": "无法判断 / cannot check" };

const hz = {
  version: null, pointsVersion: null, panel: null, layers: null, categories: {},
  facilities: new Map(), markers: new Map(), points: null, mode: "browse", busy: 0,
  drawing: [], job: null, editTimes: [],
};
window.hz = hz;  // for scripts and tests: state, the map, and hz.edit (below)

/* ------------------------------------------------------------------ small helpers */
const $ = (id) => document.getElementById(id);

function el(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (attrs) for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k === "style") e.style.cssText = v; else e.setAttribute(k, v);
  }
  return e;
}

function fmtInt(x) { return x === null || x === undefined ? "—" : Math.round(x).toLocaleString("en-US"); }
function fmtPct(x) { return x === null || x === undefined ? "—" : (100 * x).toFixed(1) + "%"; }
function fmtNum(x, d) {
  if (x === null || x === undefined) return "—";
  const a = Math.abs(x);
  return x.toLocaleString("en-US", { maximumFractionDigits: d !== undefined ? d : (a >= 100 ? 0 : a >= 1 ? 2 : 3) });
}
function signed(x, f) { return (x > 0 ? "+" : x < 0 ? "−" : "±") + f(Math.abs(x)); }

function showError(text) {
  const box = $("error");
  box.textContent = text ? "⚠ " + text : "";
  box.hidden = !text;
}

function setStatus(text) { $("status").textContent = text; }

function decode(b64, Type) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return Type === Uint8Array ? bytes : new Type(bytes.buffer);
}

async function api(method, path, body) {
  const opts = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    opts.headers["content-type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  let data = null;
  try { data = await res.json(); } catch (e) { data = { error: res.statusText }; }
  if (!res.ok) {
    const err = new Error((data && data.error) || res.statusText);
    err.status = res.status;
    throw err;
  }
  return data;
}

/* ------------------------------------------------------------------ the map */
const map = L.map("map", { preferCanvas: true, zoomControl: true });
hz.map = map;
const canvas = L.canvas({ padding: 0.3 });
const facilityLayer = L.layerGroup().addTo(map);
const proposalLayer = L.layerGroup().addTo(map);
const siteLayer = L.layerGroup().addTo(map);
let drawLine = null;

/* Residents: every demand point as a dot on one canvas, coloured by its reach. */
const DotLayer = L.Layer.extend({
  onAdd(m) {
    this._c = L.DomUtil.create("canvas", "hz-dots");
    this._c.style.pointerEvents = "none";
    m.getPanes().overlayPane.appendChild(this._c);
    m.on("moveend resize zoomend viewreset", this.redraw, this);
    m.on("zoomstart", this._hide, this);
    this.redraw();
  },
  onRemove(m) {
    L.DomUtil.remove(this._c);
    m.off("moveend resize zoomend viewreset", this.redraw, this);
    m.off("zoomstart", this._hide, this);
  },
  _hide() { if (this._c) this._c.style.visibility = "hidden"; },
  redraw() {
    const c = this._c, m = this._map;
    if (!c || !m || !hz.points) return;
    const size = m.getSize();
    c.width = size.x; c.height = size.y;
    c.style.visibility = "visible";
    L.DomUtil.setPosition(c, m.containerPointToLayerPoint([0, 0]));
    const ctx = c.getContext("2d");
    const scale = 256 * Math.pow(2, m.getZoom());
    const o = m.getPixelBounds().min;
    const r = m.getZoom() >= 16 ? 3 : m.getZoom() >= 14 ? 2 : 1.5;
    const colours = dotColours();
    const P = hz.points, n = P.n, key = P.key;
    for (let g = 0; g < colours.length; g++) {
      if (!colours[g]) continue;
      ctx.fillStyle = colours[g];
      for (let i = 0; i < n; i++) {
        if (key[i] !== g) continue;
        const x = P.mx[i] * scale - o.x, y = P.my[i] * scale - o.y;
        if (x < -r || y < -r || x > size.x + r || y > size.y + r) continue;
        ctx.fillRect(x - r / 2, y - r / 2, r, r);
      }
    }
  },
});
const dots = new DotLayer();

/* Per point a colour group: 0 not counted, 1 covered, 2 below, 3 none (or compare groups). */
function dotColours() {
  const cat = $("show-category").value;
  const P = hz.points;
  const now = P.reach[cat], base = P.base[cat];
  const compare = $("compare").checked;
  const key = P.key || (P.key = new Uint8Array(P.n));
  if (compare && base) {
    for (let i = 0; i < P.n; i++) {
      const a = now[i] === 1 || now[i] === 2, b = base[i] === 1 || base[i] === 2;
      key[i] = base[i] === REACH.NEW ? 4 : now[i] === 0 ? 0 : a && !b ? 1 : b && !a ? 2 : 3;
    }
    return [null, COLOURS.gained, COLOURS.lost, COLOURS.same, COLOURS.newPoint];
  }
  for (let i = 0; i < P.n; i++) key[i] = now ? now[i] : 0;
  const colour = (hz.categories[cat] || {}).colour || "#555";
  return [null, colour, COLOURS.below, COLOURS.none];
}

function legend() {
  const box = $("legend");
  box.replaceChildren();
  const cat = hz.categories[$("show-category").value];
  const rows = $("compare").checked
    ? [[COLOURS.gained, "新增可达 / gained"], [COLOURS.lost, "失去可达 / lost"],
       [COLOURS.same, "不变 / unchanged"], [COLOURS.newPoint, "新增居民 / new residents"]]
    : [[cat ? cat.colour : "#555", cat ? `${cat.mode_words[0]} ${cat.minutes} 分钟内可达 / ` +
        `within a ${cat.minutes}-min ${cat.mode_words[1]}` : "可达 / within reach"],
       [COLOURS.below, "可达但低于人均标准 / in reach, below a standard"],
       [COLOURS.none, "无可达设施 / no facility in reach"]];
  for (const [c, t] of rows) {
    const d = el("div");
    d.append(el("span", null, { class: "swatch", style: `background:${c}` }), el("span", t));
    box.append(d);
  }
}

function setPoints(data) {
  const lon = decode(data.lon, Float32Array), lat = decode(data.lat, Float32Array);
  const n = data.n, mx = new Float64Array(n), my = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    mx[i] = (lon[i] + 180) / 360;
    const s = Math.sin(lat[i] * Math.PI / 180);
    my[i] = 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
  }
  const reach = {}, base = {};
  for (const [c, v] of Object.entries(data.reach)) reach[c] = decode(v, Uint8Array);
  for (const [c, v] of Object.entries(data.base)) base[c] = decode(v, Uint8Array);
  hz.points = { n, mx, my, reach, base, persons: decode(data.persons, Float32Array), key: null };
  hz.pointsVersion = data.points_version;
}

/* Facilities: draggable markers; their popups built from DOM nodes (names stay text). */
function facilityIcon(f) {
  const cat = hz.categories[f.category] || {};
  const div = el("div", null, { class: "fac-icon" + (f.id.startsWith("new-") || f.id.startsWith("J") ? " new" : ""),
                                style: `background:${cat.colour || "#34495e"};width:100%;height:100%` });
  return L.divIcon({ html: div, className: "", iconSize: [12, 12] });
}

function facilityPopup(f) {
  const cat = hz.categories[f.category] || {};
  const box = el("div", null, { class: "popup" });
  box.append(el("div", f.name || f.id, { class: "title" }));
  box.append(el("div", `${cat.label || f.category} · ${f.id}`));
  for (const [k, v] of Object.entries(f.attributes || {})) box.append(el("div", `${k}: ${v}`));
  if (!f.snapped) box.append(el("div", "未接入路网 / not joined to a street", { class: "hint" }));
  const name = el("input", null, { maxlength: "200" });
  name.value = f.name || "";
  const cap = el("input", null, { type: "number", min: "0", step: "any" });
  const capKey = cat.capacity || "capacity";
  if (f.attributes && f.attributes[capKey] !== undefined) cap.value = f.attributes[capKey];
  const l1 = el("label", "名称 / Name "); l1.append(name);
  const l2 = el("label", `${capKey} `); l2.append(cap);
  const save = el("button", "保存 / Save", { type: "button" });
  save.addEventListener("click", () => {
    const body = { name: name.value };
    if (cap.value !== "") body.capacity = Number(cap.value);
    edit("PATCH", `/api/facilities/${encodeURIComponent(f.id)}`, body);
  });
  const del = el("button", "删除 / Delete", { type: "button" });
  del.addEventListener("click", () => { map.closePopup(); edit("DELETE", `/api/facilities/${encodeURIComponent(f.id)}`); });
  box.append(l1, l2, save, del);
  return box;
}

function setFacilities(list) {
  const seen = new Set();
  for (const f of list) {
    seen.add(f.id);
    const old = hz.facilities.get(f.id);
    let m = hz.markers.get(f.id);
    if (!m) {
      m = L.marker([f.lat, f.lon], { icon: facilityIcon(f), draggable: true, autoPan: true });
      m.on("dragend", () => {
        const p = m.getLatLng();
        edit("PATCH", `/api/facilities/${encodeURIComponent(f.id)}`, { lon: p.lng, lat: p.lat })
          .catch(() => {});
      });
      m.bindTooltip(() => el("span", hz.facilities.get(f.id).name || f.id));
      m.on("click", (e) => {  // browsing: its popup; adding or drawing: a click on the map
        if (hz.mode === "browse") {
          L.popup({ offset: [0, -4] }).setLatLng(m.getLatLng())
            .setContent(facilityPopup(hz.facilities.get(f.id))).openOn(map);
        } else {
          map.fire("click", { latlng: e.latlng });
        }
      });
      hz.markers.set(f.id, m);
      facilityLayer.addLayer(m);
    } else if (!old || old.lon !== f.lon || old.lat !== f.lat) {
      m.setLatLng([f.lat, f.lon]);
    }
    hz.facilities.set(f.id, f);
  }
  for (const [id, m] of hz.markers) {
    if (!seen.has(id)) { facilityLayer.removeLayer(m); hz.markers.delete(id); hz.facilities.delete(id); }
  }
}

/* ------------------------------------------------------------------ the panel */
function cell(tr, text, cls) { const td = el("td", text); if (cls) td.className = cls; tr.append(td); return td; }

function renderPanel(p) {
  hz.panel = p;
  $("undo").disabled = !p.can_undo;
  $("redo").disabled = !p.can_redo;
  $("population").textContent = `居民 / residents ${fmtInt(p.population)} · ${p.speed_kmh} km/h`;
  const tb = $("categories").tBodies[0];
  tb.replaceChildren();
  for (const c of p.categories) {
    hz.categories[c.id] = c;
    const tr = el("tr");
    const name = el("td");
    name.append(el("span", null, { class: "swatch", style: `background:${c.colour}` }), el("span", c.label));
    tr.append(name);
    const mtd = el("td");
    const min = el("input", null, { type: "number", min: "1", max: "120", step: "any", style: "width:4em",
                                    "aria-label": `minutes ${c.id}` });
    min.value = c.minutes;
    min.dataset.category = c.id;
    min.addEventListener("change", () => edit("PATCH", `/api/categories/${encodeURIComponent(c.id)}`,
                                               { minutes: Number(min.value) }));
    mtd.append(min);
    tr.append(mtd);
    cell(tr, c.facilities);
    cell(tr, `${fmtPct(c.share)} (${fmtInt(c.covered)})`);
    const d = (c.covered || 0) - (c.base.covered || 0);
    cell(tr, Math.abs(d) < 0.5 ? "±0" : `${signed(d, fmtInt)} (${signed(100 * ((c.share || 0) - (c.base.share || 0)), (x) => x.toFixed(1))} pp)`,
         d > 0.5 ? "up" : d < -0.5 ? "down" : "");
    cell(tr, fmtInt(c.no_facility));
    cell(tr, fmtInt(c.below_standard));
    tr.dataset.category = c.id;
    tb.append(tr);
  }
  renderStandards();
  renderDistricts();
  renderProposals(p.proposals || []);
  fillSelect($("site-category"), p.categories);
  fillSelect($("add-category"), p.categories);
  if (!$("show-category").options.length) {
    fillSelect($("show-category"), p.categories);
  }
  updateCapacityLabel();
  legend();
}

function fillSelect(sel, cats) {
  const keep = sel.value;
  if (sel.options.length === cats.length) return;
  sel.replaceChildren(...cats.map((c) => { const o = el("option", c.label); o.value = c.id; return o; }));
  if (keep) sel.value = keep;
}

function renderStandards() {
  const p = hz.panel, failing = $("standards-failing").checked;
  const tb = $("standards").tBodies[0];
  tb.replaceChildren();
  for (const s of p.standards) {
    if (failing && s.met !== false && s.base_met !== false) continue;
    const tr = el("tr");
    cell(tr, s.label);
    cell(tr, s.district);
    cell(tr, `${fmtNum(s.value)} ${s.unit || ""}`);
    cell(tr, fmtNum(s.target));
    cell(tr, s.gap === null ? "—" : fmtNum(s.gap));
    cell(tr, s.met === null ? "—" : s.met ? "✓ 达标 / met" : "✗ 未达标 / not met", s.met === null ? "" : s.met ? "met" : "unmet");
    const changed = s.value !== s.base_value || s.met !== s.base_met;
    cell(tr, changed ? `${fmtNum(s.base_value)}${s.base_met === null ? "" : s.base_met ? " ✓" : " ✗"}` : "=",
         changed ? (s.met && !s.base_met ? "up" : !s.met && s.base_met ? "down" : "") : "");
    tb.append(tr);
  }
}

function renderDistricts() {
  const p = hz.panel, cat = $("show-category").value;
  const c = hz.categories[cat];
  $("district-category").textContent = c ? c.label : "";
  const tb = $("districts").tBodies[0];
  tb.replaceChildren();
  for (const d of p.districts) {
    const tr = el("tr");
    cell(tr, d.name);
    cell(tr, fmtInt(d.population));
    const now = d.covered[cat], base = d.base[cat];
    cell(tr, d.population ? `${fmtPct(now / d.population)} (${fmtInt(now)})` : "—");
    const diff = (now || 0) - (base || 0);
    cell(tr, base === null || Math.abs(diff) < 0.5 ? "±0" : signed(diff, fmtInt), diff > 0.5 ? "up" : diff < -0.5 ? "down" : "");
    tb.append(tr);
  }
}

function renderProposals(list) {
  const box = $("proposals");
  box.replaceChildren();
  proposalLayer.clearLayers();
  if (!list.length) {
    box.append(el("p", "尚无 / none yet — 用“绘制规划地块” / use “Draw proposal”", { class: "hint" }));
    return;
  }
  for (const r of list) {
    const cls = r.verdict === "pass" ? "pass" : r.verdict === "fail" ? "fail" : "cannot";
    const div = el("div", null, { class: `verdict ${cls}` });
    div.dataset.proposal = r.name;
    div.append(el("strong", r.name), el("span", ` — ${VERDICT_LABEL[r.verdict] || r.verdict} · ${fmtInt(r.population)} 人 / people`));
    const ul = el("ul");
    for (const c of r.checks) {
      const li = el("li", `${c.label}: ${VERDICT_LABEL[c.verdict] || c.verdict}${c.reason ? " — " + c.reason : ""}`);
      li.dataset.verdict = c.verdict;
      ul.append(li);
    }
    div.append(ul);
    const del = el("button", "移除 / Remove", { type: "button" });
    del.addEventListener("click", () => edit("DELETE", `/api/proposals/${encodeURIComponent(r.name)}`));
    div.append(del);
    box.append(div);
    const colour = COLOURS.verdict[r.verdict] || "#555";
    if (r.catchment) L.geoJSON(r.catchment, { style: { color: colour, weight: 1, fillOpacity: 0.08, dashArray: "4 3" }, interactive: false }).addTo(proposalLayer);
    const outline = L.geoJSON(r.outline, { style: { color: colour, weight: 2, fillOpacity: 0.25 } });
    outline.bindTooltip(el("span", `${r.name}: ${VERDICT_LABEL[r.verdict] || r.verdict}`));
    outline.addTo(proposalLayer);
  }
}

function updateCapacityLabel() {
  const c = hz.categories[$("add-category").value];
  $("add-capacity-label").textContent = `规模 / ${c ? c.capacity : "capacity"}`;
}

/* ------------------------------------------------------------------ edits */
function afterPaint() { return new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))); }

async function applyReply(reply) {
  hz.version = reply.version;
  if (reply.facilities) setFacilities(reply.facilities);
  if (reply.panel) renderPanel(reply.panel);
  if (reply.points_version !== hz.pointsVersion) {
    setPoints(await api("GET", "/api/residents"));
  } else if (reply.reach) {
    for (const [c, v] of Object.entries(reply.reach)) hz.points.reach[c] = decode(v, Uint8Array);
  }
  dots.redraw();
  document.body.dataset.version = hz.version;
}

async function edit(method, path, body) {
  const t0 = performance.now();
  hz.busy++;
  document.body.dataset.busy = "1";
  setStatus("计算中 / computing…");
  try {
    const reply = await api(method, path, Object.assign({}, body || {}, { version: hz.version }));
    await applyReply(reply);
    await afterPaint();
    const ms = performance.now() - t0;
    hz.editTimes.push(ms);
    window.hzLastEditMs = ms;
    setStatus(`v${hz.version} · 已更新 / updated in ${Math.round(ms)} ms (服务器 / server ${Math.round(1000 * reply.seconds)} ms)`);
    showError("");
    return reply;
  } catch (e) {
    showError(e.message);
    setStatus(`v${hz.version}`);
    if (e.status === 409) await refreshAll();
    else if (path.startsWith("/api/facilities/") && method === "PATCH") resetMarkers();
    throw e;
  } finally {
    hz.busy--;
    document.body.dataset.busy = hz.busy ? "1" : "";
  }
}

hz.edit = edit;

function resetMarkers() {
  for (const [id, m] of hz.markers) { const f = hz.facilities.get(id); m.setLatLng([f.lat, f.lon]); }
}

async function refreshAll() {
  const [st, fac, res] = await Promise.all([api("GET", "/api/panel"), api("GET", "/api/facilities"),
                                            api("GET", "/api/residents")]);
  hz.version = st.version;
  setFacilities(fac.facilities);
  renderPanel(st.panel);
  setPoints(res);
  dots.redraw();
  document.body.dataset.version = hz.version;
  setStatus(`v${hz.version}`);
}

/* ------------------------------------------------------------------ modes */
function setMode(mode) {
  hz.mode = mode;
  $("add-form").hidden = mode !== "add";
  $("draw-form").hidden = mode !== "draw";
  $("map").classList.toggle("adding", mode === "add");
  $("map").classList.toggle("drawing", mode === "draw");
  if (mode !== "draw") clearDrawing();
}

function clearDrawing() {
  hz.drawing = [];
  $("draw-count").textContent = "0";
  if (drawLine) { map.removeLayer(drawLine); drawLine = null; }
}

map.on("click", (e) => {
  const { lat, lng } = e.latlng;
  if (hz.mode === "add") {
    const body = { category: $("add-category").value, lon: lng, lat };
    if ($("add-name").value.trim()) body.name = $("add-name").value.trim();
    if ($("add-capacity").value !== "") body.capacity = Number($("add-capacity").value);
    edit("POST", "/api/facilities", body).catch(() => {});
  } else if (hz.mode === "draw") {
    hz.drawing.push([lng, lat]);
    $("draw-count").textContent = String(hz.drawing.length);
    const ll = hz.drawing.map(([x, y]) => [y, x]);
    if (drawLine) drawLine.setLatLngs(ll);
    else drawLine = L.polyline(ll, { color: "#111", weight: 2, dashArray: "5 4" }).addTo(map);
  }
});

async function finishDrawing() {
  if (hz.drawing.length < 3) { showError("至少三个点 / draw at least three points"); return; }
  const ring = [...hz.drawing, hz.drawing[0]];
  const props = {};
  if ($("draw-name").value.trim()) props.name = $("draw-name").value.trim();
  if ($("draw-population").value !== "") props.population = Number($("draw-population").value);
  if ($("draw-households").value !== "") props.households = Number($("draw-households").value);
  const feature = { type: "Feature", geometry: { type: "Polygon", coordinates: [ring] }, properties: props };
  try {
    await edit("POST", "/api/proposals", feature);
    clearDrawing();
  } catch (e) { /* shown */ }
}

/* Facilities from a file: sent as it is; the server reads it as coverage reads --facilities. */
async function uploadFacilities() {
  const input = $("upload-file"), file = input.files[0];
  if (!file) return;
  const ext = file.name.toLowerCase().split(".").pop();
  const fmt = ext === "json" ? "geojson" : ext;
  const q = new URLSearchParams({ format: fmt, crs: $("upload-crs").value, name: file.name });
  if ($("upload-all").checked) q.set("category", $("add-category").value);
  const list = $("upload-warnings");
  list.replaceChildren();
  const t0 = performance.now();
  hz.busy++;
  document.body.dataset.busy = "1";
  try {
    const res = await fetch(`/api/uploads/facilities?${q}`, {
      method: "POST", credentials: "same-origin", body: await file.arrayBuffer(),
      headers: { "content-type": "application/octet-stream", "if-match": String(hz.version) } });
    const data = await res.json();
    if (!res.ok) throw Object.assign(new Error(data.error || res.statusText), { status: res.status });
    await applyReply(data);
    await afterPaint();
    for (const w of data.warnings || []) list.append(el("li", w));
    setStatus(`v${hz.version} · +${data.added.length} 设施 / facilities in ${Math.round(performance.now() - t0)} ms`);
    showError("");
  } catch (e) {
    showError(e.message);
    if (e.status === 409) await refreshAll();
  } finally {
    input.value = "";
    hz.busy--;
    document.body.dataset.busy = hz.busy ? "1" : "";
  }
}

/* ------------------------------------------------------------------ site suggestions */
async function startSites() {
  try {
    hz.job = await api("POST", "/api/sites", { category: $("site-category").value, add: Number($("site-add").value),
                                               time_limit: Number($("site-limit").value) });
    showError("");
    siteLayer.clearLayers();
    $("site-list").replaceChildren();
    $("site-accept").hidden = true;
    pollSites();
  } catch (e) { showError(e.message); }
}

async function pollSites() {
  if (!hz.job) return;
  let st;
  try { st = await api("GET", `/api/sites/${encodeURIComponent(hz.job.id)}`); } catch (e) { showError(e.message); return; }
  hz.job = st;
  $("site-cancel").hidden = st.state !== "running";
  $("site-start").disabled = st.state === "running";
  $("site-status").textContent = `${st.state} · ${st.seconds} s · ${st.message || ""}`;
  if (st.state === "running") { setTimeout(pollSites, 1000); return; }
  if (st.state === "done") {
    const ol = $("site-list");
    ol.replaceChildren();
    for (const s of st.sites) {
      ol.append(el("li", `${s.name}: +${fmtInt(s.newly_covered)} 人 / people`));
      L.circleMarker([s.lat, s.lon], { radius: 7, color: "#111", weight: 2, fillColor: "#fff", fillOpacity: 0.9 })
        .bindTooltip(el("span", `${s.name} (+${fmtInt(s.newly_covered)})`)).addTo(siteLayer);
    }
    $("site-accept").hidden = st.accepted || !st.sites.length;
  }
}

async function cancelSites() {
  if (!hz.job) return;
  try { hz.job = await api("DELETE", `/api/sites/${encodeURIComponent(hz.job.id)}`); } catch (e) { showError(e.message); }
  $("site-status").textContent = "cancelled / 已取消";
  $("site-cancel").hidden = true;
  $("site-start").disabled = false;
}

async function acceptSites() {
  try {
    await edit("POST", `/api/sites/${encodeURIComponent(hz.job.id)}/accept`, {});
    siteLayer.clearLayers();
    $("site-accept").hidden = true;
  } catch (e) { /* shown */ }
}

/* ------------------------------------------------------------------ studies */
async function refreshSaved() {
  const { saved } = await api("GET", "/api/studies");
  $("saved").replaceChildren(...saved.map((n) => { const o = el("option", n); o.value = n; return o; }));
}

async function saveStudy() {
  try {
    const r = await api("POST", "/api/studies", { name: $("save-name").value });
    setStatus(`已保存 / saved “${r.name}” (${r.edits} edits)`);
    showError("");
    await refreshSaved();
  } catch (e) { showError(e.message); }
}

async function openStudy() {
  if (!$("saved").value) return;
  try {
    await api("POST", "/api/studies/open", { name: $("saved").value });
    showError("");
    await refreshAll();
  } catch (e) { showError(e.message); }
}

/* ------------------------------------------------------------------ start */
async function init() {
  const layers = await api("GET", "/api/layers");
  hz.layers = layers;
  for (const c of layers.categories) hz.categories[c.id] = c;
  const bases = {};
  for (const [k, b] of Object.entries(layers.basemaps)) {
    bases[b.label] = b.url ? L.tileLayer(b.url, { attribution: b.attribution || "", subdomains: b.subdomains || "abc", maxZoom: 19 })
                           : L.layerGroup();
    if (k === "none") bases[b.label].addTo(map);
  }
  const streets = L.polyline(layers.streets.map((line) => line.map(([x, y]) => [y, x])),
                             { color: COLOURS.street, weight: 1, interactive: false, renderer: canvas });
  streets.addTo(map);
  const many = layers.boundaries.length > 40;
  const areas = L.geoJSON({ type: "FeatureCollection", features: layers.boundaries.map((b) => ({ type: "Feature", geometry: b.geometry, properties: {} })) },
                          { style: { color: "#333", weight: 1.2, dashArray: "5 3", fill: false }, interactive: many });
  areas.getLayers().forEach((lyr, i) => lyr.bindTooltip(el("span", layers.boundaries[i].name),
                                                       many ? {} : { permanent: true, direction: "center", className: "area-label" }));
  areas.addTo(map);
  dots.addTo(map);
  L.control.layers(bases, { "街道 / streets": streets, "片区 / areas": areas, "居民 / residents": dots,
                            "设施 / facilities": facilityLayer, "规划地块 / proposals": proposalLayer,
                            "建议选址 / suggested sites": siteLayer }, { collapsed: true }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  map.fitBounds(layers.bounds);
  if (layers.synthetic) {
    const badge = $("synthetic");
    badge.textContent = "合成示例数据 / synthetic demo data";
    badge.title = layers.synthetic;
    badge.hidden = false;
  }
  $("footer").textContent = `hzspatial ${layers.version} · 居民点 / resident points · 地图 / map: Leaflet` +
    (layers.streets_omitted ? ` · ${fmtInt(layers.streets_omitted)} 条街段未绘出，请选底图 / street segments not drawn: choose a basemap` : "");
  await refreshAll();
  await refreshSaved();
  document.body.dataset.ready = "1";
}

document.querySelectorAll("input[name=mode]").forEach((r) => r.addEventListener("change", () => setMode(r.value)));
$("add-category").addEventListener("change", updateCapacityLabel);
$("show-category").addEventListener("change", () => { legend(); renderDistricts(); dots.redraw(); });
$("compare").addEventListener("change", () => { legend(); dots.redraw(); });
$("standards-failing").addEventListener("change", renderStandards);
$("undo").addEventListener("click", () => edit("POST", "/api/undo").catch(() => {}));
$("redo").addEventListener("click", () => edit("POST", "/api/redo").catch(() => {}));
$("draw-finish").addEventListener("click", finishDrawing);
$("upload-file").addEventListener("change", uploadFacilities);
$("draw-cancel").addEventListener("click", clearDrawing);
$("site-start").addEventListener("click", startSites);
$("site-cancel").addEventListener("click", cancelSites);
$("site-accept").addEventListener("click", acceptSites);
$("save").addEventListener("click", saveStudy);
$("open").addEventListener("click", openStudy);
document.addEventListener("keydown", (e) => {
  if (e.target.closest("input, select, textarea")) return;
  if ((e.ctrlKey || e.metaKey) && e.key === "z" && !$("undo").disabled) { e.preventDefault(); $("undo").click(); }
  if ((e.ctrlKey || e.metaKey) && e.key === "y" && !$("redo").disabled) { e.preventDefault(); $("redo").click(); }
});

/* Another tab (or a script) changed the study: follow it. */
setInterval(async () => {
  if (hz.busy || hz.version === null) return;
  try {
    const v = await api("GET", "/api/version");
    if (v.version !== hz.version && !hz.busy) await refreshAll();
  } catch (e) { /* the server stopped: say so once */ setStatus("服务器无响应 / server not answering"); }
}, 3000);

init().catch((e) => showError(e.message));
