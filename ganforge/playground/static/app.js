// The playground page: one websocket per tab (its own session on the server), the 2-D lab
// view drawn by hand on a canvas, and the image lab. Frames arrive as JSON with
// coordinates in milli-units; only the newest frame is drawn (at most once per repaint).
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  ws: null, frame: null, dirty: false, playing: false, extent: 1.5,
  drawn: [], drawing: false, real: [],
  loss: { d: new Series(), g: new Series() }, modes: { m: new Series(), h: new Series() },
  image: { rows: 0, cols: 0, picked: null, points: false, directions: 0 },
  run: { d: new Series(2000), g: new Series(2000), m: new Series(2000), h: new Series(2000) },
};
const MAX_DRAWN = 2000;

// ------------------------------------------------------------------ connection
function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/ws`);
  state.ws = ws;
  ws.onopen = () => { $("conn").textContent = "connected"; $("conn").className = "conn ok"; };
  ws.onclose = () => { $("conn").textContent = "disconnected — reload the page"; $("conn").className = "conn bad"; };
  ws.onmessage = (ev) => handle(JSON.parse(ev.data));
}

function send(msg) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(msg));
}

function showError(text) {
  const box = $("error");
  box.textContent = text; box.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

function handle(msg) {
  switch (msg.type) {
    case "frame": onFrame(msg); break;
    case "data": onData(msg); break;
    case "settings": fillSettings(msg.settings); break;
    case "error": if (!(typeof studioError === "function" && studioError(msg))) showError(msg.message); break;
    case "image.opened": onImageOpened(msg); break;
    case "image.grid": if (msg.basis) buildSliders(state.image.directions, msg); onGrid(msg); break;
    case "image.interpolation": $("interp").src = msg.image; $("interp-box").hidden = false; break;
    case "image.run": onRun(msg); break;
    case "image.closed": break;
    default: if (msg.type.startsWith("studio.")) studioHandle(msg);
  }
}

// ------------------------------------------------------------------ 2-D lab: controls
function fillSettings(s) {
  for (const el of document.querySelectorAll("[data-setting]")) {
    const v = s[el.dataset.setting];
    if (v !== undefined && document.activeElement !== el) el.value = v;
  }
  $("draw-tools").hidden = s.distribution !== "drawn";
}

function readSetting(el) {
  if (el.tagName === "SELECT") return el.value;
  const v = Number(el.value);
  return el.step === "1" ? Math.round(v) : v;
}

function bindControls() {
  for (const el of document.querySelectorAll("[data-setting]")) {
    el.addEventListener("change", () => {
      const key = el.dataset.setting;
      if (key === "distribution") $("draw-tools").hidden = el.value !== "drawn";
      send({ type: "settings", settings: { [key]: readSetting(el) } });
    });
  }
  $("play").onclick = () => send({ type: state.playing ? "pause" : "play" });
  $("step_d").onclick = () => send({ type: "step_d" });
  $("step_g").onclick = () => send({ type: "step_g" });
  $("reset").onclick = () => send({ type: "reset" });
  $("use-drawn").onclick = () => {
    if (state.drawn.length < 3) { showError("draw at least 3 points first"); return; }
    send({ type: "points", points: state.drawn.map(p => [round3(p[0]), round3(p[1])]) });
  };
  $("clear-drawn").onclick = () => { state.drawn = []; $("drawn-count").textContent = "0"; state.dirty = true; };
  for (const id of ["show-heat", "show-manifold", "show-real", "show-fake", "show-arrows"]) {
    $(id).onchange = () => { state.dirty = true; };
  }
  bindDrawing();
  for (const t of document.querySelectorAll(".tab")) t.onclick = () => showTab(t.dataset.tab);
}

const round3 = (v) => Math.round(v * 1000) / 1000;

function showTab(name) {
  for (const t of document.querySelectorAll(".tab")) t.classList.toggle("active", t.dataset.tab === name);
  for (const p of document.querySelectorAll(".panel")) p.classList.toggle("active", p.id === name);
  if (name === "imagelab") loadRuns();
  if (name === "studio") loadStudio();
}

// ------------------------------------------------------------------ 2-D lab: drawing points
function canvasToWorld(ev) {
  const r = $("view").getBoundingClientRect(), e = state.extent;
  const u = (ev.clientX - r.left) / r.width, v = (ev.clientY - r.top) / r.height;
  return [(u * 2 - 1) * e, (1 - v * 2) * e];
}

function bindDrawing() {
  const view = $("view");
  const add = (ev) => {
    if ($("distribution").value !== "drawn" || state.drawn.length >= MAX_DRAWN) return;
    const p = canvasToWorld(ev), last = state.drawn[state.drawn.length - 1];
    if (last && Math.hypot(p[0] - last[0], p[1] - last[1]) < state.extent * 0.015) return;
    state.drawn.push(p);
    $("drawn-count").textContent = String(state.drawn.length);
    state.dirty = true;
  };
  view.addEventListener("pointerdown", (ev) => { state.drawing = true; add(ev); });
  view.addEventListener("pointermove", (ev) => { if (state.drawing) add(ev); });
  window.addEventListener("pointerup", () => { state.drawing = false; });
}

// ------------------------------------------------------------------ 2-D lab: frames
function onData(msg) { // a new lab (reset, new settings or points): fixed real sample, fresh curves
  state.real = msg.real; state.extent = msg.extent; state.dirty = true;
  for (const s of [state.loss.d, state.loss.g, state.modes.m, state.modes.h]) s.clear();
}

function onFrame(f) {
  state.frame = f; state.dirty = true; state.extent = f.extent; state.needAck = true;
  if (f.diverged && !state.warnedDiverged) showError("training diverged (NaN or infinity): lower a learning rate and press Reset");
  state.warnedDiverged = f.diverged;
  state.playing = f.playing;
  const play = $("play");
  play.textContent = f.playing ? "❚❚ Pause" : "▶ Play";
  play.classList.toggle("playing", f.playing);
  $("step").textContent = f.step.toLocaleString();
  $("speed").textContent = f.playing ? f.steps_per_s.toFixed(0) : "–";
  if (f.losses.D !== null) state.loss.d.push(f.step, f.losses.D);
  if (f.losses.G !== null) state.loss.g.push(f.step, f.losses.G);
  if (f.metrics) {
    $("modes").textContent = `${f.metrics.modes} / ${f.metrics.total_modes}`;
    $("modes").dataset.modes = String(f.metrics.modes);
    $("hq").textContent = f.metrics.hq_percent.toFixed(1);
    state.modes.m.push(f.step, f.metrics.modes);
    state.modes.h.push(f.step, f.metrics.hq_percent);
  } else if (f.metrics === null && !["ring8", "grid25"].includes($("distribution").value)) {
    $("modes").textContent = "–"; $("modes").dataset.modes = "-1"; $("hq").textContent = "–";
  }
}

function repaint() {
  if (state.needAck) { // tell the server this frame is drawn, so it sends the next (a hidden tab pauses the stream)
    state.needAck = false;
    send({ type: "ack" });
  }
  if (state.dirty) {
    state.dirty = false;
    drawView();
    drawChart($("loss-chart"), [{ series: state.loss.d, color: "#ef4444" }, { series: state.loss.g, color: "#8a3ffc" }]);
    const total = state.frame && state.frame.metrics ? state.frame.metrics.total_modes : 8;
    drawChart($("mode-chart"), [{ series: state.modes.m, color: "#1f9e6e" }, { series: state.modes.h, color: "#f59e0b", axis: "right" }],
      { leftRange: [0, total + 0.5], rightRange: [0, 100], empty: "for ring8 and grid25" });
  }
  requestAnimationFrame(repaint);
}

const heatCanvas = document.createElement("canvas");

function drawHeat(ctx, f, w, h) {
  const n = f.heat_size;
  heatCanvas.width = n; heatCanvas.height = n;
  const hctx = heatCanvas.getContext("2d"), img = hctx.createImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const v = f.heat[i] / 255, a = Math.abs(v - 0.5) * 2; // 0 = undecided
    const real = v >= 0.5;
    img.data[4 * i] = real ? 31 : 138; img.data[4 * i + 1] = real ? 158 : 63; img.data[4 * i + 2] = real ? 110 : 252;
    img.data[4 * i + 3] = Math.round(a * 95);
  }
  hctx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(heatCanvas, 0, 0, w, h);
}

function drawView() {
  const { ctx, w, h } = setupCanvas($("view"));
  const f = state.frame, e = state.extent;
  const P = (x, y) => [(x / 1000 / e + 1) / 2 * w, (1 - y / 1000 / e) / 2 * h];
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, h);
  if (f && $("show-heat").checked) drawHeat(ctx, f, w, h);
  drawAxes(ctx, w, h, e);
  if (f && $("show-manifold").checked) drawManifold(ctx, f, P);
  if (f && $("show-real").checked) dots(ctx, state.real, P, "rgba(31,158,110,0.75)", 2.2);
  if (f && $("show-fake").checked) dots(ctx, f.fake, P, "rgba(138,63,252,0.8)", 2.2);
  if (f && $("show-arrows").checked) drawArrows(ctx, f, P);
  if ($("distribution").value === "drawn") {
    ctx.fillStyle = "#f97316";
    for (const [x, y] of state.drawn) { const [px, py] = P(x * 1000, y * 1000); ctx.beginPath(); ctx.arc(px, py, 3, 0, 7); ctx.fill(); }
  }
  $("frame-info").textContent = f ? `view ±${e.toFixed(2)} · D updates ${f.d_updates.toLocaleString()}` : "";
}

function drawAxes(ctx, w, h, e) {
  ctx.strokeStyle = "rgba(0,0,0,0.08)"; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(w / 2, 0); ctx.lineTo(w / 2, h); ctx.moveTo(0, h / 2); ctx.lineTo(w, h / 2); ctx.stroke();
  ctx.fillStyle = "rgba(0,0,0,0.35)"; ctx.font = "10px system-ui, sans-serif";
  ctx.fillText(`${e.toFixed(1)}`, w - 22, h / 2 - 4); ctx.fillText(`${e.toFixed(1)}`, w / 2 + 4, 11);
}

function dots(ctx, xy, P, color, r) {
  ctx.fillStyle = color;
  for (let i = 0; i < xy.length; i += 2) {
    const [px, py] = P(xy[i], xy[i + 1]);
    ctx.beginPath(); ctx.arc(px, py, r, 0, 7); ctx.fill();
  }
}

function drawManifold(ctx, f, P) {
  const n = f.z_grid, m = f.manifold;
  ctx.strokeStyle = "rgba(75,85,99,0.35)"; ctx.lineWidth = 1;
  ctx.beginPath();
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) { // along j: row i of the z-grid
      const [px, py] = P(m[2 * (i * n + j)], m[2 * (i * n + j) + 1]);
      j ? ctx.lineTo(px, py) : ctx.moveTo(px, py);
    }
    for (let j = 0; j < n; j++) { // along i: column of the z-grid
      const [px, py] = P(m[2 * (j * n + i)], m[2 * (j * n + i) + 1]);
      j ? ctx.lineTo(px, py) : ctx.moveTo(px, py);
    }
  }
  ctx.stroke();
}

function drawArrows(ctx, f, P) {
  ctx.strokeStyle = "rgba(31,41,55,0.7)"; ctx.lineWidth = 1.1;
  ctx.beginPath();
  for (let i = 0; i < f.arrows.length && i < f.fake.length; i += 2) {
    const x = f.fake[i], y = f.fake[i + 1];
    const [ax, ay] = P(x, y), [bx, by] = P(x + f.arrows[i], y + f.arrows[i + 1]);
    const len = Math.hypot(bx - ax, by - ay);
    if (len < 1.5) continue;
    ctx.moveTo(ax, ay); ctx.lineTo(bx, by);
    const ux = (bx - ax) / len, uy = (by - ay) / len, head = Math.min(4, len * 0.4);
    ctx.moveTo(bx, by); ctx.lineTo(bx - head * (ux + uy * 0.5), by - head * (uy - ux * 0.5));
    ctx.moveTo(bx, by); ctx.lineTo(bx - head * (ux - uy * 0.5), by - head * (uy + ux * 0.5));
  }
  ctx.stroke();
}

// ------------------------------------------------------------------ image lab
async function loadRuns() {
  try {
    const r = await fetch("/api/runs"), data = await r.json();
    $("runs-root").textContent = `from ${data.root}`;
    const list = $("runs");
    list.replaceChildren();
    if (!data.runs.length) { const li = document.createElement("li"); li.textContent = "nothing here yet"; list.append(li); }
    for (const run of data.runs) {
      const li = document.createElement("li");
      li.textContent = run.path;
      const tag = document.createElement("small");
      tag.textContent = run.kind === "model" ? "model" : run.has_model ? "run" : "run, training";
      li.append(tag);
      li.onclick = () => {
        for (const x of list.children) x.classList.remove("active");
        li.classList.add("active");
        send({ type: "image.open", path: run.path });
      };
      list.append(li);
    }
  } catch (e) { showError("could not list runs: " + e); }
}

function onImageOpened(msg) {
  $("image-empty").hidden = true;
  $("image-title").textContent = msg.path;
  $("image-view").hidden = !msg.has_model;
  $("image-controls").hidden = !msg.has_model;
  $("interp-box").hidden = true;
  $("run-view").hidden = msg.kind !== "run";
  for (const s of Object.values(state.run)) s.clear();
  state.image.points = !!msg.points;
  if (msg.has_model) {
    const what = msg.points ? "a 2-D point model: the scatter shows 1,000 samples"
      : msg.music ? "music: piano rolls, one colour per track; the player plays the first phrase; click two to interpolate"
      : msg.molecules ? "molecules, drawn with their QED (grey: not a valid molecule); click two to interpolate"
      : msg.clips ? "audio: each clip's waveform above its spectrogram; the player plays the first clip; click two to interpolate"
      : msg.c_dim ? `conditional on ${msg.c_dim} classes: one row per class, the same z in each column`
      : "click two samples to interpolate between them";
    $("image-hint").textContent = `z_dim ${msg.z_dim} · ${what}` + (msg.c_dim && !msg.points && !msg.clips ? " · click two samples to interpolate" : "");
    state.image.directions = msg.directions || 0;
    buildSliders(state.image.directions, msg);
  }
  if (msg.image) onGrid(msg);
}

function buildSliders(n, msg) { // principal directions are labelled with the variance each explains
  const box = $("sliders");
  box.replaceChildren();
  $("basis").value = msg.basis || "random";
  for (let i = 0; i < n; i++) {
    const label = document.createElement("label");
    const share = msg.explained && msg.explained[i] !== undefined ? ` ${(100 * msg.explained[i]).toFixed(1)} %` : "";
    label.textContent = msg.explained ? `PC${i + 1}${share}` : `d${i + 1}`;
    const input = document.createElement("input");
    Object.assign(input, { type: "range", min: -3, max: 3, step: 0.1, value: 0 });
    input.oninput = sendDirections;
    label.append(input);
    box.append(label);
  }
}

let directionTimer = null;
function sendDirections() { // throttled: a slider drag sends at most ~12 requests a second
  if (directionTimer) return;
  directionTimer = setTimeout(() => {
    directionTimer = null;
    const values = [...$("sliders").querySelectorAll("input")].map(x => Number(x.value));
    send({ type: "image.directions", values });
  }, 80);
}

function onGrid(msg) {
  $("grid").src = msg.image;
  const player = $("grid-audio");  // music and audio models: the first phrase or clip to listen to
  player.hidden = !msg.audio;
  if (msg.audio) player.src = msg.audio; else player.removeAttribute("src");
  state.image.rows = msg.rows; state.image.cols = msg.cols; state.image.picked = null;
}

function bindImageLab() {
  $("refresh-runs").onclick = loadRuns;
  $("reseed").onclick = () => {
    const seed = Math.floor(Math.random() * 1e6);
    $("img-seed").value = seed;
    send({ type: "image.sample", seed, n: Math.max(1, Math.min(64, Math.round(Number($("img-n").value) || 32))) });
  };
  $("img-seed").onchange = () => send({ type: "image.sample", seed: Math.max(0, Math.round(Number($("img-seed").value))), n: Math.round(Number($("img-n").value) || 32) });
  $("img-n").onchange = $("img-seed").onchange;
  $("basis").onchange = () => send({ type: "image.basis", basis: $("basis").value });
  $("zero-sliders").onclick = () => { for (const x of $("sliders").querySelectorAll("input")) x.value = 0; sendDirections(); };
  $("grid").onclick = (ev) => {
    if (state.image.points || !state.image.cols) return;
    const r = ev.target.getBoundingClientRect();
    const col = Math.floor((ev.clientX - r.left) / r.width * state.image.cols);
    const row = Math.floor((ev.clientY - r.top) / r.height * state.image.rows);
    const cell = row * state.image.cols + col;
    if (state.image.picked === null) {
      state.image.picked = cell;
      $("pick-hint").textContent = `sample ${cell + 1} picked: click a second one to interpolate`;
    } else {
      send({ type: "image.interpolate", a: state.image.picked, b: cell, steps: 10 });
      $("pick-hint").textContent = `interpolating from sample ${state.image.picked + 1} to ${cell + 1}`;
      state.image.picked = null;
    }
  };
}

function onRun(msg) {
  $("run-view").hidden = false;
  $("run-live").textContent = `updated ${new Date().toLocaleTimeString()}`;
  if (msg.latest) $("run-latest").src = msg.latest;
  const c = msg.curves, r = state.run;
  for (const [key, s] of [["Loss/D", r.d], ["Loss/G", r.g], ["Metric/modes", r.m], ["Metric/hq_percent", r.h]]) {
    s.clear();
    for (const [x, y] of c[key] || []) s.push(x, y);
  }
  drawChart($("run-chart"), [{ series: r.d, color: "#ef4444" }, { series: r.g, color: "#8a3ffc" },
    { series: r.h, color: "#f59e0b", axis: "right" }], { rightRange: [0, 100] });
}

// ------------------------------------------------------------------ start
fetch("/api/info").then(r => r.json()).then(info => fillSettings(info.defaults)).catch(() => {});
bindControls();
bindImageLab();
connect();
requestAnimationFrame(repaint);
