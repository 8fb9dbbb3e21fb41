#include "server/dashboard_page.hpp"

namespace gslb::server {

namespace {

// States are told apart by a word and an icon shape (circle with a tick for up, a diamond with a
// cross for down, a square with a pause sign for drained), never by colour alone.
constexpr std::string_view Page = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gslbd dashboard</title>
<style>
:root {
  --bg: #f4f6f8; --card: #ffffff; --text: #1b2430; --muted: #5c6773; --line: #dde3e9;
  --up: #1a7f37; --up-bg: #e3f4e8; --down: #c62828; --down-bg: #fdeaea;
  --drained: #8a5a00; --drained-bg: #fff2d6; --pending: #5c6773; --pending-bg: #eceff2;
  --accent: #2f5d9a;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #12161b; --card: #1b2129; --text: #e3e8ee; --muted: #9aa6b2; --line: #2c3540;
    --up: #5fd07e; --up-bg: #173523; --down: #ff7b72; --down-bg: #3d1a1a;
    --drained: #f0b84a; --drained-bg: #3a2c10; --pending: #9aa6b2; --pending-bg: #262e38;
    --accent: #7fb0ff;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    sans-serif;
}
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 0.92em; }
header {
  background: var(--card); border-bottom: 1px solid var(--line); padding: 14px 24px;
  display: flex; flex-wrap: wrap; align-items: center; gap: 8px 24px;
}
header h1 { font-size: 20px; margin: 0; letter-spacing: 0.2px; }
header h1 span { color: var(--muted); font-weight: 400; }
.meta { display: flex; flex-wrap: wrap; gap: 4px 18px; color: var(--muted); font-size: 13px; }
.meta b { color: var(--text); font-weight: 600; }
.live { margin-left: auto; font-size: 13px; display: flex; align-items: center; gap: 6px; }
main { max-width: 1280px; margin: 0 auto; padding: 18px 24px 40px; }
h2 { font-size: 16px; margin: 22px 0 10px; text-transform: uppercase; letter-spacing: 0.6px;
  color: var(--muted); }
.summary { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 4px; }
.summary .pill { font-size: 14px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr));
  gap: 14px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 14px 16px; border-left-width: 5px; }
.card.up { border-left-color: var(--up); }
.card.down { border-left-color: var(--down); }
.card.drained { border-left-color: var(--drained); border-left-style: dashed; }
.card-head { display: flex; align-items: center; justify-content: space-between; gap: 10px; }
.card-head h3 { margin: 0; font-size: 18px; }
.sub { color: var(--muted); font-size: 13px; margin: 4px 0 4px; }
.note { font-size: 13px; color: var(--drained); margin: 2px 0 4px; font-weight: 600; }
.pill { display: inline-flex; align-items: center; gap: 6px; padding: 2px 10px 2px 6px;
  border-radius: 999px; font-weight: 600; font-size: 13px; white-space: nowrap; }
.pill.up { color: var(--up); background: var(--up-bg); }
.pill.down { color: var(--down); background: var(--down-bg); }
.pill.drained { color: var(--drained); background: var(--drained-bg); }
.pill.pending { color: var(--pending); background: var(--pending-bg); }
.pill svg { width: 16px; height: 16px; flex: none; }
ul.checks { list-style: none; margin: 6px 0 0; padding: 0; }
ul.checks li { border-top: 1px solid var(--line); padding: 8px 0 7px; display: grid;
  grid-template-columns: auto 1fr auto; column-gap: 10px; row-gap: 2px; align-items: center; }
ul.checks .name { font-weight: 600; }
ul.checks .lat { color: var(--muted); font-size: 13px; white-space: nowrap; }
ul.checks .line { grid-column: 1 / -1; font-size: 13px; }
ul.checks .target { grid-column: 1 / -1; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
.foot { color: var(--muted); }
table { width: 100%; border-collapse: collapse; font-size: 13.5px; }
th { text-align: left; color: var(--muted); font-weight: 600; font-size: 12px;
  text-transform: uppercase; letter-spacing: 0.4px; padding: 6px 8px 4px 0;
  border-bottom: 1px solid var(--line); }
td { padding: 7px 8px 7px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
tr:last-child td { border-bottom: none; }
.target { color: var(--muted); font-size: 12px; word-break: break-all; }
.reason { word-break: break-word; }
.num { white-space: nowrap; }
.services { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 4px 16px; }
.services td, .services th { padding-right: 14px; }
ol.answers { margin: 0; padding-left: 22px; }
ol.answers li { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; }
.none { color: var(--muted); font-style: italic; }
.empty { color: var(--muted); padding: 8px 0; }
.error { background: var(--down-bg); color: var(--down); border-radius: 8px; padding: 8px 12px;
  margin-top: 12px; display: none; }
footer { color: var(--muted); font-size: 12px; margin-top: 26px; }
@media (max-width: 640px) {
  header { padding: 12px 14px; }
  main { padding: 10px 12px 30px; }
  .grid { grid-template-columns: 1fr; }
  .live { margin-left: 0; }
  table, thead, tbody, tr, td { display: block; width: 100%; }
  thead { display: none; }
  tr { border-bottom: 1px solid var(--line); padding: 6px 0; }
  tr:last-child { border-bottom: none; }
  td { border: none; padding: 2px 0; }
  td[data-label]::before { content: attr(data-label) ": "; color: var(--muted);
    font-size: 12px; }
}
</style>
</head>
<body>
<header>
  <h1>gslbd <span id="identity">&hellip;</span></h1>
  <div class="meta">
    <div>version <b id="version">&hellip;</b></div>
    <div>zone <b id="zone">&hellip;</b></div>
    <div>config generation <b id="generation">&hellip;</b></div>
    <div>up <b id="uptime">&hellip;</b></div>
  </div>
  <div class="live" id="live"><span class="pill pending">loading</span></div>
</header>
<main>
  <div class="error" id="error" role="alert"></div>
  <div class="summary" id="summary"></div>
  <h2>Sites</h2>
  <div class="grid" id="sites"></div>
  <h2>Services</h2>
  <div class="services"><table>
    <thead><tr><th>Service</th><th>Policy</th><th>TTL</th><th>State</th><th>A answers</th>
      <th>AAAA answers</th></tr></thead>
    <tbody id="services"></tbody>
  </table></div>
  <footer>Refreshes every 2 s from <code>/api/v1/status</code>.
    Metrics at <code>/metrics</code>. Config <span id="path" class="mono"></span></footer>
</main>
<script>
"use strict";
const ICONS = {
  up: '<svg viewBox="0 0 16 16" aria-hidden="true"><circle cx="8" cy="8" r="7" ' +
    'fill="currentColor"/><path d="M4.5 8.3l2.3 2.3 4.7-5" stroke="#fff" stroke-width="2" ' +
    'fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>',
  down: '<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M8 0.8l7.2 7.2-7.2 7.2-7.2-7.2z" ' +
    'fill="currentColor"/><path d="M5.6 5.6l4.8 4.8M10.4 5.6l-4.8 4.8" stroke="#fff" ' +
    'stroke-width="2" stroke-linecap="round"/></svg>',
  drained: '<svg viewBox="0 0 16 16" aria-hidden="true"><rect x="1" y="1" width="14" ' +
    'height="14" rx="2" fill="currentColor"/><path d="M6 4.5v7M10 4.5v7" stroke="#fff" ' +
    'stroke-width="2.2" stroke-linecap="round"/></svg>',
  pending: '<svg viewBox="0 0 16 16" aria-hidden="true"><circle cx="8" cy="8" r="6" ' +
    'fill="none" stroke="currentColor" stroke-width="2" stroke-dasharray="3 2.5"/></svg>',
};
const LABELS = { up: "up", down: "down", drained: "drained", pending: "pending" };

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function pill(state, text) {
  const p = el("span", "pill " + state);
  p.innerHTML = ICONS[state] || ICONS.pending;  // constant markup only, never data
  p.appendChild(document.createTextNode(text || LABELS[state] || state));
  p.dataset.state = state;
  return p;
}
function cell(row, label, content) {
  const td = el("td");
  td.dataset.label = label;
  if (content instanceof Node) td.appendChild(content);
  else td.textContent = content;
  row.appendChild(td);
  return td;
}
function duration(s) {
  s = Math.max(0, Math.floor(s));
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
  if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor(s % 3600 / 60) + " min";
  return Math.floor(s / 86400) + " d " + Math.floor(s % 86400 / 3600) + " h";
}
function ago(iso, now) {
  if (!iso) return el("span", "none", "never");
  const t = Date.parse(iso);
  const span = el("span", "num", duration((now - t) / 1000) + " ago");
  span.title = iso;
  return span;
}
function answerList(list) {
  if (!list.length) return el("span", "none", "none");
  const ol = el("ol", "answers");
  for (const a of list) ol.appendChild(el("li", null, a));
  return ol;
}

function drawSite(site, now) {
  const card = el("section", "card " + site.state);
  card.dataset.site = site.name;
  card.dataset.state = site.state;
  const head = el("div", "card-head");
  head.appendChild(el("h3", null, site.name));
  head.appendChild(pill(site.state));
  card.appendChild(head);
  card.appendChild(el("div", "sub mono", site.addresses.join("  ")));
  if (site.drained) {
    card.appendChild(el("div", "note", "Drained by hand \u2014 left out of answers; checks " +
      (site.checks_up ? "up" : "down") + "."));
  }
  if (!site.checks.length) {
    card.appendChild(el("div", "empty", "No checks: always up unless drained."));
    return card;
  }
  const list = el("ul", "checks");
  for (const c of site.checks) {
    const li = el("li");
    li.dataset.check = c.id;
    li.dataset.state = c.state;
    li.appendChild(pill(c.state));
    li.appendChild(el("span", "mono name", c.type + " #" + c.id.split("/").pop().split(":")[0]));
    li.appendChild(el("span", "lat",
      c.latency_ms === null ? "\u2013" : c.latency_ms.toFixed(1) + " ms"));
    li.appendChild(el("div", "target mono", c.target));
    li.appendChild(c.last_ok === null ? el("div", "line none", "no result yet") :
      el("div", "line reason", (c.last_ok ? "last probe ok \u2014 " :
        "last probe failed \u2014 ") + c.reason));
    const foot = el("div", "line foot");
    if (c.last_change) {
      foot.appendChild(document.createTextNode("changed "));
      foot.appendChild(ago(c.last_change, now));
    } else {
      foot.appendChild(document.createTextNode("no change yet"));
    }
    foot.appendChild(document.createTextNode(" \u00b7 " + c.runs + " runs \u00b7 " +
      c.failures + " failed"));
    li.appendChild(foot);
    list.appendChild(li);
  }
  card.appendChild(list);
  return card;
}

function drawService(svc) {
  const tr = el("tr");
  tr.dataset.service = svc.name;
  const name = el("div");
  name.appendChild(el("div", "mono", svc.name));
  name.appendChild(el("div", "target", "sites: " + svc.sites.join(", ")));
  cell(tr, "Service", name);
  cell(tr, "Policy", svc.policy + (svc.max_answers ? ", max " + svc.max_answers : ""));
  cell(tr, "TTL", svc.ttl + " s").className = "num";
  let state;
  if (svc.servfail) state = pill("down", "all down: SERVFAIL");
  else if (svc.all_down) state = pill("down", "all down: serving all");
  else state = pill("up", "answering");
  cell(tr, "State", state);
  cell(tr, "A answers", answerList(svc.answers.A));
  cell(tr, "AAAA answers", answerList(svc.answers.AAAA));
  return tr;
}

function draw(data) {
  const s = data.server;
  const now = Date.parse(s.now) || Date.now();
  document.getElementById("identity").textContent = s.identity;
  document.getElementById("version").textContent = s.version;
  document.getElementById("zone").textContent = s.zone.origin + " serial " + s.zone.serial;
  document.getElementById("generation").textContent = s.config_generation;
  document.getElementById("uptime").textContent = duration(s.uptime_seconds);
  document.getElementById("path").textContent = s.config_path;
  const counts = { up: 0, down: 0, drained: 0 };
  const sites = document.getElementById("sites");
  sites.replaceChildren();
  for (const site of data.sites) {
    counts[site.state] = (counts[site.state] || 0) + 1;
    sites.appendChild(drawSite(site, now));
  }
  if (!data.sites.length) sites.appendChild(el("div", "empty", "No sites configured."));
  const summary = document.getElementById("summary");
  summary.replaceChildren(pill("up", counts.up + " up"), pill("down", counts.down + " down"),
    pill("drained", counts.drained + " drained"));
  const services = document.getElementById("services");
  services.replaceChildren();
  for (const svc of data.services) services.appendChild(drawService(svc));
}

function setLive(ok, text) {
  const live = document.getElementById("live");
  live.replaceChildren(pill(ok ? "up" : "down", text));
  live.dataset.ok = ok ? "true" : "false";
  const err = document.getElementById("error");
  err.style.display = ok ? "none" : "block";
  if (!ok) err.textContent = "Cannot refresh from /api/v1/status: " + text +
    ". Showing the last data received.";
}

async function refresh() {
  try {
    const res = await fetch("api/v1/status", { cache: "no-store" });
    if (!res.ok) throw new Error("HTTP " + res.status);
    draw(await res.json());
    setLive(true, "live \u00b7 " + new Date().toLocaleTimeString());
  } catch (e) {
    setLive(false, e.message || String(e));
  } finally {
    setTimeout(refresh, 2000);
  }
}
refresh();
</script>
</body>
</html>
)html";

}  // namespace

std::string_view dashboardPage() {
    return Page;
}

}  // namespace gslb::server
