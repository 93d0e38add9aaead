// The studio tab: a person's own image upscaled or repaired (a mask painted over it), and a
// sketch rendered live by a pix2pix model as it is drawn. Requests go over the tab's websocket
// (send, from app.js) as studio.run messages; the server answers studio.result (a PNG data URL
// carrying its provenance), studio.replaced (a newer request of the task took its place) or an
// error line with the task it was for.
"use strict";

const studio = {
  limits: { image_bytes: 4 * 2 ** 20, pixels: 2 ** 22 }, models: {}, loaded: false,
  image: null,            // { url, name, width, height } of the uploaded image
  nextId: 1,              // the id of the next request (the server's answer names it)
  masked: false, sketched: false, sketchTimer: null, sketchDirty: false,
};
const SKETCH_EVERY = 150; // ms between sketch renders while drawing (and one more on release)
const TASK_GAMES = { upscale: "superres", repair: "repair", sketch: "pix2pix" };

// ------------------------------------------------------------------ models
function loadStudio() {
  fetch("/api/studio").then(r => r.json()).then(info => {
    studio.limits = info.limits; studio.models = info.tasks; studio.loaded = true;
    for (const task of Object.keys(TASK_GAMES)) fillModels(task, info.tasks[task] || []);
    setSketchPen();
  }).catch(() => showError("could not list the studio's models"));
}

function describeModel(m) {
  const bits = [m.scale ? `x${m.scale}` : "", m.resolution ? `${m.resolution} px` : "",
    m.channels === 1 ? "grey" : m.channels === 3 ? "colour" : "", m.source ? String(m.source).split("/").pop() : ""];
  return bits.filter(Boolean).join(", ");
}

function fillModels(task, models) {
  const select = $(`${task}-run`), before = select.value;
  select.innerHTML = "";
  for (const m of models) {
    const o = document.createElement("option");
    o.value = m.path; o.textContent = `${m.path} (${describeModel(m)})`; o.model = m;
    select.appendChild(o);
  }
  if (!models.length) {
    const o = document.createElement("option");
    o.value = ""; o.textContent = `no ${TASK_GAMES[task]} model under --runs`; select.appendChild(o);
  }
  if (models.some(m => m.path === before)) select.value = before;
  select.disabled = !models.length;
}

function chosen(task) {
  const o = $(`${task}-run`).selectedOptions[0];
  return o && o.model ? o.model : null;
}

// ------------------------------------------------------------------ requests and answers
function request(task, fields) {
  const model = chosen(task);
  if (!studio.loaded) { status(task, "the models under --runs are still being listed: a moment"); return false; }
  if (!model) { status(task, `no ${TASK_GAMES[task]} model under --runs: train one, then Refresh models`); return false; }
  send({ type: "studio.run", task, path: model.path, id: studio.nextId++, ...fields });
  return true;
}

function status(task, text) { $(task === "sketch" ? "sketch-status" : "studio-status").textContent = text; }

function studioHandle(msg) {
  if (msg.type === "studio.result") onResult(msg);
  else if (msg.type === "studio.replaced" && msg.task !== "sketch") status(msg.task, `${msg.task}: replaced by a newer request`);
}

function studioError(msg) { // true when the error was a studio request's (shown beside it)
  if (msg.request !== "studio.run") return false;
  const task = msg.task || "upscale";
  status(task, `${msg.task || "studio"}: ${msg.message}`);
  return true;
}

function onResult(msg) {
  const secs = `${msg.seconds.toFixed(2)} s`;
  if (msg.task === "sketch") {
    $("sketch-output").src = msg.image;
    $("sketch-info").textContent = `${msg.width} × ${msg.height} px`;
    status("sketch", `${msg.note} in ${secs}`);
    return;
  }
  const out = $("studio-result");
  out.src = msg.image; out.hidden = false;
  out.dataset.width = msg.width; out.dataset.height = msg.height;
  $("studio-result-info").textContent = `${msg.width} × ${msg.height} px`;
  status(msg.task, `${msg.task}: ${msg.note} in ${secs}`);
  const save = $("studio-save");
  const stem = (studio.image && studio.image.name || "image").replace(/\.[^.]*$/, "");
  save.href = msg.image; save.download = `${stem}-${msg.task}.png`; save.hidden = false;
}

// ------------------------------------------------------------------ the uploaded image
function readImage(file) {
  if (!file) return;
  if (!file.type.startsWith("image/")) { status("upscale", `${file.name} is not an image`); return; }
  if (/^image\/(png|jpeg)$/.test(file.type)) {
    if (file.size > studio.limits.image_bytes) {
      status("upscale", `${file.name} is ${(file.size / 2 ** 20).toFixed(1)} MB: at most ${studio.limits.image_bytes / 2 ** 20} MB`);
      return;
    }
    const reader = new FileReader();
    reader.onload = () => showImage(reader.result, file.name);
    reader.readAsDataURL(file);
  } else { // WebP, GIF, BMP...: the browser decodes it, the server gets a PNG
    const img = new Image();
    img.onload = () => {
      const c = document.createElement("canvas");
      c.width = img.naturalWidth; c.height = img.naturalHeight;
      c.getContext("2d").drawImage(img, 0, 0);
      URL.revokeObjectURL(img.src);
      showImage(c.toDataURL("image/png"), file.name.replace(/\.[^.]*$/, "") + ".png");
    };
    img.onerror = () => status("upscale", `${file.name}: the browser cannot decode it`);
    img.src = URL.createObjectURL(file);
  }
}

function showImage(url, name) {
  const img = $("studio-image");
  img.onload = () => {
    const w = img.naturalWidth, h = img.naturalHeight;
    if (w * h > studio.limits.pixels) {
      status("upscale", `${name} is ${w} × ${h} px: at most ${(studio.limits.pixels / 1e6).toFixed(1)} million pixels`);
      $("studio-paint").hidden = true; $("studio-empty").hidden = false; studio.image = null;
      return;
    }
    studio.image = { url, name, width: w, height: h };
    const k = Math.min(480 / Math.max(w, h), Math.max(1, 256 / Math.max(w, h))); // small ones enlarged, large ones fit
    img.style.width = `${Math.round(w * k)}px`; img.style.height = `${Math.round(h * k)}px`;
    const mask = $("mask-canvas");
    mask.width = w; mask.height = h; studio.masked = false;
    $("studio-paint").hidden = false; $("studio-empty").hidden = true;
    $("studio-image-info").textContent = `${name}: ${w} × ${h} px`;
    $("mask-info").textContent = "";
    status("upscale", "");
  };
  img.src = url;
}

function maskURL() { // the painted strokes as a black PNG with white where to fill (the image's size)
  const painted = $("mask-canvas"), w = painted.width, h = painted.height;
  const src = painted.getContext("2d").getImageData(0, 0, w, h).data;
  const out = document.createElement("canvas");
  out.width = w; out.height = h;
  const ctx = out.getContext("2d"), dst = ctx.createImageData(w, h);
  for (let i = 0; i < src.length; i += 4) {
    const v = src[i + 3] > 0 ? 255 : 0;
    dst.data[i] = dst.data[i + 1] = dst.data[i + 2] = v; dst.data[i + 3] = 255;
  }
  ctx.putImageData(dst, 0, 0);
  return out.toDataURL("image/png");
}

// ------------------------------------------------------------------ drawing (mask and sketch)
function strokes(canvas, style, onStroke, onEnd) {
  let last = null;
  const at = (ev) => {
    const r = canvas.getBoundingClientRect();
    return [(ev.clientX - r.left) * canvas.width / r.width, (ev.clientY - r.top) * canvas.height / r.height,
      canvas.width / r.width];
  };
  const line = (a, b) => {
    const ctx = canvas.getContext("2d"), s = style();
    ctx.strokeStyle = s.color; ctx.lineWidth = s.width * a[2]; ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
  };
  canvas.addEventListener("pointerdown", (ev) => {
    ev.preventDefault();
    canvas.setPointerCapture && canvas.setPointerCapture(ev.pointerId);
    last = at(ev); line(last, last); onStroke();
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!last) return;
    const p = at(ev); line(last, p); last = p; onStroke();
  });
  const end = () => { if (last) { last = null; onEnd(); } };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("pointerleave", end);
}

function clearSketch() {
  const c = $("sketch-canvas"), ctx = c.getContext("2d");
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
  studio.sketched = false;
}

function setSketchPen() { // strokes about as wide as the model's edges: ~1.2 of its pixels
  const m = chosen("sketch");
  const side = m && m.resolution ? (Array.isArray(m.resolution) ? m.resolution[1] : m.resolution) : 64;
  $("sketch-brush").value = Math.max(2, Math.min(40, Math.round(256 / side * 1.2)));
}

function sendSketch() {
  studio.sketchDirty = false;
  if (chosen("sketch") && studio.sketched) request("sketch", { image: $("sketch-canvas").toDataURL("image/png") });
}

function sketchStroke() { // at most one render every SKETCH_EVERY ms while drawing
  studio.sketched = true; studio.sketchDirty = true;
  if (studio.sketchTimer) return;
  sendSketch();
  studio.sketchTimer = setInterval(() => {
    if (studio.sketchDirty) sendSketch();
    else { clearInterval(studio.sketchTimer); studio.sketchTimer = null; }
  }, SKETCH_EVERY);
}

// ------------------------------------------------------------------ controls
function bindStudio() {
  $("studio-file").onchange = (ev) => readImage(ev.target.files[0]);
  const drop = $("studio-drop"), paint = $("studio-paint");
  for (const zone of [drop, paint, $("studio-empty")]) {
    zone.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
    zone.addEventListener("dragleave", () => drop.classList.remove("over"));
    zone.addEventListener("drop", (ev) => {
      ev.preventDefault(); drop.classList.remove("over");
      readImage(ev.dataTransfer.files[0]);
    });
  }
  $("upscale-go").onclick = () => {
    if (!studio.image) { status("upscale", "upload an image first"); return; }
    const m = chosen("upscale"), s = m && m.scale || 1;
    if (m && studio.image.width * studio.image.height * s * s > studio.limits.output_pixels) {
      status("upscale", `x${s} this image would be ${studio.image.width * s} × ${studio.image.height * s} px: more than the studio sends back; crop it first`);
      return;
    }
    if (request("upscale", { image: studio.image.url, name: studio.image.name })) status("upscale", "upscaling…");
  };
  $("repair-go").onclick = () => {
    if (!studio.image) { status("repair", "upload an image first"); return; }
    if (!studio.masked) { status("repair", "paint over the parts to fill first"); return; }
    if (request("repair", { image: studio.image.url, mask: maskURL(), name: studio.image.name })) status("repair", "repairing…");
  };
  $("clear-mask").onclick = () => {
    const c = $("mask-canvas");
    c.getContext("2d").clearRect(0, 0, c.width, c.height); studio.masked = false; $("mask-info").textContent = "";
  };
  strokes($("mask-canvas"), () => ({ color: "rgba(255, 48, 48, 1)", width: Number($("brush").value) }),
    () => { studio.masked = true; }, () => { $("mask-info").textContent = "mask painted"; });
  clearSketch();
  strokes($("sketch-canvas"), () => ({ color: "#000", width: Number($("sketch-brush").value) }), sketchStroke,
    () => { studio.sketchDirty = false; sendSketch(); }); // the finished stroke, once more
  $("clear-sketch").onclick = () => { clearSketch(); $("sketch-output").removeAttribute("src"); $("sketch-info").textContent = ""; };
  $("sketch-run").onchange = () => { setSketchPen(); sendSketch(); };
  $("refresh-studio").onclick = loadStudio;
}

bindStudio();
