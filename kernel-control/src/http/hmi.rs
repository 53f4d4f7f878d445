//! The HMI page served at `/`: everything inline, no network fetch beyond
//! this kernel. The drawing is the kernel's own SVG
//! (`/api/v1/topology?format=svg`); the page redraws it on every event of
//! `/api/v1/events` and offers pause/resume per connection and
//! restart/stop per server, asking for the bearer token once.

pub(crate) const PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>kernel control room</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 0; background: #f4f5f7; color: #111; }
  header { display: flex; align-items: center; gap: 16px; padding: 10px 18px; background: #263238; color: #fff; }
  header h1 { font-size: 18px; margin: 0; font-weight: 600; }
  #status { font-size: 13px; padding: 2px 8px; border-radius: 10px; background: #78909c; }
  #status.live { background: #2e7d32; }
  #status.down { background: #c62828; }
  header .spacer { flex: 1; }
  header input { font-size: 13px; padding: 3px 6px; width: 220px; }
  main { padding: 12px 18px; }
  #graph { background: #fff; border: 1px solid #cfd8dc; border-radius: 6px; overflow: auto; padding: 6px; }
  #graph svg { display: block; max-width: 100%; height: auto; }
  .tables { display: grid; grid-template-columns: 2fr 1fr; gap: 16px; margin-top: 14px; }
  table { border-collapse: collapse; width: 100%; background: #fff; font-size: 13px; }
  th, td { padding: 4px 8px; border-bottom: 1px solid #e0e0e0; text-align: left; white-space: nowrap; }
  th { background: #eceff1; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .state { font-weight: 600; }
  .bar { display: inline-block; width: 70px; height: 9px; background: #e0e0e0; border-radius: 4px; vertical-align: middle; }
  .bar > span { display: block; height: 100%; border-radius: 4px; }
  button { font-size: 12px; padding: 2px 8px; cursor: pointer; }
  #message { margin-top: 8px; font-size: 13px; min-height: 18px; }
  #message.error { color: #c62828; }
  h2 { font-size: 15px; margin: 6px 0; }
</style>
</head>
<body data-updates="0" data-live="false">
<header>
  <h1 id="title">kernel</h1>
  <span id="status">connecting</span>
  <span id="uptime"></span>
  <span class="spacer"></span>
  <label>token <input id="token" type="password" autocomplete="off" placeholder="asked on first action"></label>
</header>
<main>
  <div id="graph">loading topology</div>
  <div id="message"></div>
  <div class="tables">
    <section>
      <h2>Connections</h2>
      <table id="connections"><thead><tr>
        <th>from</th><th>to</th><th>state</th><th>rate</th><th>queue</th><th>in</th><th>out</th><th>drops</th><th></th>
      </tr></thead><tbody></tbody></table>
    </section>
    <section>
      <h2>Servers</h2>
      <table id="servers"><thead><tr>
        <th>server</th><th>type</th><th>state</th><th>restarts</th><th></th>
      </tr></thead><tbody></tbody></table>
    </section>
  </div>
</main>
<script>
"use strict";
const api = "/api/v1";
const $ = (id) => document.getElementById(id);
let updates = 0;
let pending = null;

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
function rate(r) {
  if (r >= 1e6) return (r / 1e6).toFixed(1) + "M msg/s";
  if (r >= 1e3) return (r / 1e3).toFixed(1) + "k msg/s";
  return r.toFixed(1) + " msg/s";
}
function fillColour(c) {
  if (c.state === "paused") return "#1e88e5";
  if (c.state === "draining") return "#8e24aa";
  if (c.fill >= 0.9) return "#c62828";
  if (c.fill >= 0.5) return "#f9a825";
  return "#2e7d32";
}
function say(text, isError) {
  const m = $("message");
  m.textContent = text;
  m.className = isError ? "error" : "";
}
function token() {
  let t = $("token").value.trim() || sessionStorage.getItem("kernel-token") || "";
  if (!t) {
    t = (window.prompt("Bearer token for modifying calls (printed by the kernel, or in its token file)") || "").trim();
  }
  if (t) { sessionStorage.setItem("kernel-token", t); $("token").value = t; }
  return t;
}
async function act(method, path, what) {
  const t = token();
  if (!t) { say("no token given: " + what + " not sent", true); return; }
  try {
    const r = await fetch(api + path, { method, headers: { "Authorization": "Bearer " + t } });
    const body = await r.json().catch(() => ({}));
    if (r.status === 401) { sessionStorage.removeItem("kernel-token"); $("token").value = ""; }
    if (!r.ok) { say(what + " refused (" + r.status + "): " + (body.error || r.statusText), true); }
    else { say(what + ": done"); }
  } catch (e) { say(what + " failed: " + e, true); }
  refresh();
}

function connectionRow(c) {
  const pct = Math.round(c.fill * 100);
  let button = "";
  if (c.state === "connected") button = `<button data-action="pause" data-id="${esc(c.id)}">pause</button>`;
  else if (c.state === "paused") button = `<button data-action="resume" data-id="${esc(c.id)}">resume</button>`;
  return `<tr id="row-${esc(c.id)}" data-id="${esc(c.id)}" data-state="${esc(c.state)}" data-rate="${c.rate}">
    <td>${esc(c.from)}</td><td>${esc(c.to)}</td>
    <td class="state">${esc(c.state)}</td>
    <td class="num rate">${rate(c.rate)}</td>
    <td><span class="bar"><span style="width:${pct}%;background:${fillColour(c)}"></span></span> ${c.queue_depth}/${c.capacity}</td>
    <td class="num">${c.messages_in}</td><td class="num">${c.messages_out}</td><td class="num">${c.drops}</td>
    <td>${button}</td></tr>`;
}
function serverRow(s) {
  const live = !["finished", "failed", "stopped"].includes(s.state);
  const buttons = live
    ? `<button data-action="restart" data-name="${esc(s.name)}">restart</button> <button data-action="stop" data-name="${esc(s.name)}">stop</button>`
    : "";
  return `<tr id="srv-${esc(s.name)}" data-name="${esc(s.name)}" data-state="${esc(s.state)}">
    <td>${esc(s.name)}</td><td>${esc(s.type_path)}</td><td class="state">${esc(s.state)}</td>
    <td class="num">${s.restarts}</td><td>${buttons}</td></tr>`;
}

async function refresh() {
  try {
    const [svg, topo] = await Promise.all([
      fetch(api + "/topology?format=svg").then((r) => r.text()),
      fetch(api + "/topology").then((r) => r.json()),
    ]);
    $("graph").innerHTML = svg;
    $("title").textContent = "kernel " + topo.kernel.name + " · " + topo.kernel.fqdn;
    $("uptime").textContent = "up " + Math.round(topo.kernel.uptime_s) + " s";
    document.querySelector("#connections tbody").innerHTML = topo.connections
      .filter((c) => c.state !== "closed" && c.state !== "failed").map(connectionRow).join("");
    document.querySelector("#servers tbody").innerHTML = topo.servers.map(serverRow).join("");
    updates += 1;
    document.body.dataset.updates = String(updates);
  } catch (e) {
    say("cannot read the topology: " + e, true);
  }
}
function schedule() {
  if (pending) return;
  pending = setTimeout(() => { pending = null; refresh(); }, 150);
}

document.addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-action]");
  if (!b) return;
  const a = b.dataset.action;
  if (a === "pause" || a === "resume") act("POST", "/connections/" + b.dataset.id + "/" + a, a + " connection");
  if (a === "restart" || a === "stop") act("POST", "/servers/" + b.dataset.name + "/" + a, a + " " + b.dataset.name);
});

const stream = new EventSource(api + "/events");
stream.onopen = () => { $("status").textContent = "live"; $("status").className = "live"; document.body.dataset.live = "true"; };
stream.onerror = () => { $("status").textContent = "reconnecting"; $("status").className = "down"; document.body.dataset.live = "false"; };
stream.addEventListener("tick", schedule);
stream.addEventListener("transition", schedule);
refresh();
</script>
</body>
</html>
"##;
