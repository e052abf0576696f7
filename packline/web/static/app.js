// The operator page: renders the daemon's /events stream and sends operator commands.
"use strict";

// Commands come from the daemon's vocabulary (/vocabulary.json), filled in before the first view.
let STATION_COMMANDS = [];
let SERVICE_COMMANDS = [];
let LOT_COMMANDS = [];
let DESTRUCTIVE = new Set();
const E10_COLORS = {
  productive: "#1a7f37", standby: "#0969da", engineering: "#8250df",
  "unscheduled down": "#cf222e", "non-scheduled": "#8a94a0",
};

let view = null;
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

function duration(seconds) {
  if (seconds == null || !isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h ? `${h} h ${m} min` : m ? `${m} min ${r} s` : `${r} s`;
}

function clock(epoch) {
  return epoch ? new Date(epoch * 1000).toLocaleTimeString() : "–";
}

// -- session -------------------------------------------------------------------------------------
function session() {
  try { return JSON.parse(sessionStorage.getItem("packline-session") || "null"); } catch { return null; }
}

function showSession() {
  const s = session();
  $("sign-in").hidden = !!s;
  $("signed-in").hidden = !s;
  $("who").textContent = s ? `${s.user} (${s.role})` : "";
}

async function signIn(event) {
  event.preventDefault();
  const body = { user: $("user").value.trim(), password: $("password").value };
  const answer = await call("POST", "/session", body, false);
  if (answer) {
    sessionStorage.setItem("packline-session", JSON.stringify(answer));
    $("password").value = "";
    say("");
    showSession();
  }
}

async function signOut() {
  await call("DELETE", "/session", null, true);
  sessionStorage.removeItem("packline-session");
  showSession();
}

function say(text, error = false) {
  $("message").textContent = text;
  $("message").classList.toggle("error", error);
}

async function call(method, path, body, withToken = true) {
  const headers = { Accept: "application/json" };
  const s = session();
  if (withToken && s) headers.Authorization = `Bearer ${s.token}`;
  if (body !== null) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === null ? undefined : JSON.stringify(body) });
  } catch (error) {
    say(`no answer from the daemon (${error})`, true);
    return null;
  }
  if (response.status === 204) return {};
  const answer = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) {
    if (response.status === 401 && withToken) {
      sessionStorage.removeItem("packline-session");
      showSession();
    }
    say([answer.error, ...(answer.problems || [])].join(" — "), true);
    return null;
  }
  return answer;
}

async function command(kind, target, name, path) {
  if (!session()) { say("sign in to send commands", true); $("user").focus(); return; }
  let body = null;
  if (name === "disable") {
    const reason = await reasonGiven(`Take ${kind} ${target} out of service`);
    if (reason === null) return;
    body = { reason };
  } else if (DESTRUCTIVE.has(name) && !(await confirmed(`${name} ${kind} ${target}?`))) return;
  const answer = await call("POST", path, body);
  if (answer) say(`${kind} ${target}: ${name} sent`);
}

// Disable asks why (the command log keeps the reason); Cancel or Escape sends nothing.
function reasonGiven(text) {
  const dialog = $("reason-dialog");
  $("reason-title").textContent = text;
  $("reason").value = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      const reason = $("reason").value.trim();
      resolve(dialog.returnValue === "ok" && reason ? reason : null);
    }, { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    $("reason").focus();
  });
}

function confirmed(text) {
  const dialog = $("confirm");
  $("confirm-text").textContent = `Really ${text}`;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
    $("confirm-ok").focus();
  });
}

function buttons(kind, target, names, pathOf) {
  return el("div", { class: "buttons", role: "group", "aria-label": `${kind} ${target} commands` },
    ...names.map((name) => el("button", {
      type: "button",
      class: DESTRUCTIVE.has(name) ? "danger" : "",
      "aria-label": `${name} ${kind} ${target}`,
      "data-command": name,
      onclick: () => command(kind, target, name, pathOf(name)),
      text: name,
    })));
}

// -- rendering -----------------------------------------------------------------------------------
// A card is rebuilt only when its own data changed, so that a button under the pointer or
// the keyboard focus stays put while the rest of the line moves.
const built = new Map();

function keyed(kind, key, data, build) {
  const id = `${kind}:${key}`;
  const text = JSON.stringify(data);
  const cached = built.get(id);
  if (cached && cached.text === text) return cached.node;
  const node = build(data);
  built.set(id, { text, node });
  return node;
}

function place(container, nodes) {
  const current = [...container.children];
  if (current.length === nodes.length && current.every((node, i) => node === nodes[i])) return;
  container.replaceChildren(...nodes);
}

// Out of service: the card offers "enable"; in service, "disable".
function serviceCommand(station) {
  const [disable, enable] = SERVICE_COMMANDS;
  return station.disabled ? enable : disable;
}

function renderStations() {
  const cards = view.stations.map((station) => keyed("station", station.name, station, (s) => {
    const now = Date.now() / 1000;
    const alarms = (s.alarms || []).map((a) => el("li", { class: "alarm", text: `${a.code} ${a.class}: ${a.text}` }));
    const name = encodeURIComponent(s.name);
    return el("article", { class: `station state-${s.state}`, "aria-label": `station ${s.name}`, "data-station": s.name },
      el("h3", { text: s.name }),
      el("dl", {},
        el("dt", { text: "state" }), el("dd", { class: "packml", text: s.state }),
        el("dt", { text: "in state" }), el("dd", { class: "since", "data-since": s.since ?? "", text: duration(s.since ? now - s.since : null) }),
        el("dt", { text: "tool" }), el("dd", { class: "tool-state", text: `${s.tool}: ${s.tool_state ?? "–"}` }),
        el("dt", { text: "step" }), el("dd", { text: s.step || "–" }),
        el("dt", { text: "strips" }), el("dd", { text: (s.strips || []).join(", ") || "–" }),
        s.disabled ? el("dt", { text: "out of service" }) : null,
        s.disabled ? el("dd", { class: "disabled-reason", text: s.disabled }) : null,
        s.down ? el("dt", { text: "down" }) : null,
        s.down ? el("dd", { class: "down-reason", text: s.down }) : null),
      alarms.length ? el("ul", { "aria-label": `alarms of ${s.name}` }, ...alarms) : null,
      buttons("station", s.name, [...STATION_COMMANDS, serviceCommand(s)], (c) => `/stations/${name}/${c}`));
  }));
  place($("stations"), cards);
}

function renderLots() {
  const lots = view.lots.map((one) => keyed("lot", one.lot_id, one, (lot) => {
    const id = encodeURIComponent(lot.lot_id);
    const steps = (lot.progress || []).map((p) => el("div", { class: "step" },
      el("span", { text: p.step }),
      el("progress", { max: lot.strip_count, value: p.strips_done, "aria-label": `${lot.lot_id} ${p.step}: ${p.strips_done} of ${lot.strip_count} strips` }),
      el("span", { text: `${p.strips_done}/${lot.strip_count}` })));
    return el("article", { class: "lot", "aria-label": `lot ${lot.lot_id}`, "data-lot": lot.lot_id },
      el("h3", {}, `${lot.lot_id} — ${lot.status} — ${lot.recipe_name} `,
        el("a", { href: `/lots/${id}/report.html`, text: "report", "aria-label": `report of lot ${lot.lot_id}` }), " ",
        el("a", { href: `/lots/${id}/spc.html`, text: "SPC", "aria-label": `SPC charts of lot ${lot.lot_id}` }), " ",
        el("a", { href: `/lots/${id}/export.csv`, text: "CSV", "aria-label": `unit export of lot ${lot.lot_id}` })),
      ...steps,
      buttons("lot", lot.lot_id, LOT_COMMANDS, (c) => `/lots/${id}/${c}`));
  }));
  place($("lots"), lots.length ? lots : [keyed("lot", "", null, () => el("p", { text: "no lot in progress" }))]);
}

function renderAlarms() {
  const rows = view.alarms.map((alarm) => keyed("alarm", alarm.alarm_id, alarm, (a) => el("tr", { "data-alarm": a.alarm_id },
    el("td", { text: clock(a.time) }), el("td", { text: a.station }),
    el("td", { text: `${a.code} ${a.class}: ${a.text}` }), el("td", { text: (a.strip_ids || []).join(", ") }),
    el("td", {}, el("button", {
      type: "button", "aria-label": `acknowledge alarm ${a.alarm_id}`, text: "ack",
      onclick: () => command("alarm", a.alarm_id, "ack", `/alarms/${a.alarm_id}/ack`),
    })))));
  place($("alarms").tBodies[0], rows.length ? rows : [keyed("alarm", "", null, () => el("tr", {}, el("td", { colspan: 5, text: "none" })))]);
}

function renderE10() {
  const bars = Object.entries(view.e10).map(([station, seconds]) => {
    const total = Object.values(seconds).reduce((a, b) => a + b, 0) || 1;
    const parts = Object.entries(seconds).filter(([, s]) => s > 0).map(([category, s]) =>
      el("span", { style: `width:${(100 * s) / total}%;background:${E10_COLORS[category] || "#999"}`, title: `${category}: ${duration(s)}` }));
    const summary = Object.entries(seconds).map(([c, s]) => `${c} ${Math.round((100 * s) / total)}%`).join(", ") || "no time recorded yet";
    return el("div", { class: "e10" }, el("span", { text: station }),
      el("div", { class: "bar", role: "img", "aria-label": `${station}: ${summary}` }, ...parts));
  });
  $("e10").replaceChildren(...bars);
}

function render() {
  renderStations();
  renderLots();
  renderAlarms();
  renderE10();
}

function tick() {
  const now = Date.now() / 1000;
  for (const node of document.querySelectorAll(".since[data-since]")) {
    const since = parseFloat(node.dataset.since);
    if (isFinite(since)) node.textContent = duration(now - since);
  }
}

function connect() {
  const source = new EventSource("/events");
  source.addEventListener("line", (event) => {
    view = JSON.parse(event.data);
    $("link").textContent = `live, ${new Date().toLocaleTimeString()}`;
    render();
  });
  source.onerror = () => { $("link").textContent = "reconnecting…"; };
}

$("e10-legend").replaceChildren(...Object.entries(E10_COLORS).map(([c, color]) =>
  el("li", {}, el("span", { style: `background:${color}` }), c)));
$("sign-in").addEventListener("submit", signIn);
$("sign-out").addEventListener("click", signOut);
showSession();
setInterval(tick, 1000);
fetch("/vocabulary.json")
  .then((response) => response.json())
  .then((words) => {
    STATION_COMMANDS = words.station_commands;
    SERVICE_COMMANDS = words.station_service_commands;
    LOT_COMMANDS = words.lot_commands;
    DESTRUCTIVE = new Set(words.destructive_commands);
    connect();
  })
  .catch((error) => say(`cannot read the daemon's vocabulary (${error})`, true));
