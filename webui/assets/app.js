// The chat page of cogedge serve. Plain JavaScript, no build step and no
// request to any host but the server that served the page (the
// Content-Security-Policy enforces that). It speaks the server's
// OpenAI-compatible API: GET v1/models, and POST v1/chat/completions with
// stream: true (server-sent events).

const $ = (id) => document.getElementById(id);
const KEY_STORE = "cogedge.apiKey"; // sessionStorage only: gone when the tab closes
const BOX_COLORS = ["#e5383b", "#1d7ed6", "#2a9d3f", "#d17a00", "#8e44c9", "#0f9b9b", "#c2185b", "#5d6d1e"];

const state = {
  image: null,      // {url: data URL, name, width, height} of the conversation's picture
  turns: [],        // [{role: "user"|"assistant", text, view}] in order
  model: "",        // id from v1/models, sent with each request
  busy: null,       // AbortController of the running request
  shown: null,      // the assistant turn whose boxes are on the picture
  orphan: null,     // view of the last answer that brought no text
  epoch: 0,         // bumped by each reset, so a request of an older chat leaves the new one alone
};

// ---- API ----------------------------------------------------------------

function headers(extra) {
  const h = Object.assign({}, extra);
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

// api fetches a server path, asking for the API key and retrying when the
// server answers 401.
async function api(path, init = {}) {
  for (;;) {
    const res = await fetch(path, Object.assign({}, init, { headers: headers(init.headers) }));
    if (res.status !== 401) return res;
    const had = sessionStorage.getItem(KEY_STORE);
    if (!(await askKey(had ? "The server refused this key. Enter the key given to cogedge serve --api-key." : null))) {
      return res;
    }
  }
}

async function errorText(res) {
  let detail = res.statusText;
  try {
    const body = await res.json();
    if (body && body.error) detail = body.error.message || String(body.error);
  } catch (_) { /* not JSON: keep the status text */ }
  return `server said ${res.status}: ${detail}`;
}

function askKey(reason) {
  const dialog = $("key-dialog");
  if (reason) $("key-reason").textContent = reason;
  $("key").value = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      const key = $("key").value.trim();
      if (dialog.returnValue === "save" && key) {
        sessionStorage.setItem(KEY_STORE, key);
        resolve(true);
      } else {
        resolve(false);
      }
    }, { once: true });
    dialog.showModal();
    $("key").focus();
  });
}

function formatBytes(n) {
  if (!(n > 0)) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${n.toFixed(n < 10 && i > 0 ? 2 : n < 100 && i > 0 ? 1 : 0)} ${units[i]}`;
}

function formatCount(n) {
  if (!(n > 0)) return "";
  if (n >= 1e9) return (n / 1e9).toFixed(2) + " B";
  if (n >= 1e6) return (n / 1e6).toFixed(1) + " M";
  if (n >= 1e3) return (n / 1e3).toFixed(1) + " K";
  return String(n);
}

async function loadModel() {
  const el = $("model");
  try {
    const res = await api("v1/models");
    if (!res.ok) { el.textContent = "model: " + (await errorText(res)); return; }
    const body = await res.json();
    const m = (body.data || [])[0];
    if (!m) { el.textContent = "the server lists no model"; return; }
    state.model = m.id;
    const meta = m.meta || {};
    const parts = [m.id, formatBytes(meta.size), meta.n_params ? formatCount(meta.n_params) + " params" : ""];
    el.textContent = "model: " + parts.filter(Boolean).join(" · ");
    el.dataset.model = m.id;
  } catch (err) {
    el.textContent = "cannot reach the server: " + err.message;
  }
}

// ---- picture --------------------------------------------------------------

function readFile(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

async function setPicture(file) {
  if (!file) return;
  if (!file.type.startsWith("image/")) {
    status(`${file.name} is not a picture (${file.type || "unknown type"}).`);
    return;
  }
  if (state.busy) stop();
  const url = await readFile(file);
  const img = $("picture");
  await new Promise((resolve, reject) => {
    img.onload = resolve;
    img.onerror = () => reject(new Error("the browser cannot show this picture"));
    img.src = url;
  }).catch((err) => { status(`${file.name}: ${err.message}`); throw err; });
  // A new picture starts a new conversation: CogVLM sees one picture per chat.
  resetChat();
  state.image = { url, name: file.name, width: img.naturalWidth, height: img.naturalHeight };
  img.alt = "Your picture: " + file.name;
  $("stage").hidden = false;
  $("drop-hint").textContent = "Drop another picture, or";
  $("picture-name").textContent = `${file.name}, ${img.naturalWidth}×${img.naturalHeight}`;
  status("Picture ready. Ask a question about it.");
  $("prompt").focus();
}

function clearBoxes() {
  $("boxes").replaceChildren();
  $("boxes").classList.remove("focus");
  state.shown = null;
}

// showBoxes draws a turn's boxes over the picture. Positions are percentages
// of the picture's own pixel size, so they follow the displayed size.
function showBoxes(turn) {
  const layer = $("boxes");
  layer.replaceChildren();
  layer.classList.remove("focus");
  state.shown = turn;
  const img = state.image;
  if (!img || !turn.boxes || !turn.boxes.length) return;
  turn.boxes.forEach((b, i) => {
    const el = document.createElement("div");
    el.className = "box";
    el.dataset.index = String(i);
    el.style.setProperty("--c", BOX_COLORS[i % BOX_COLORS.length]);
    const x0 = clamp(Math.min(b.x0, b.x1), 0, img.width), x1 = clamp(Math.max(b.x0, b.x1), 0, img.width);
    const y0 = clamp(Math.min(b.y0, b.y1), 0, img.height), y1 = clamp(Math.max(b.y0, b.y1), 0, img.height);
    el.style.left = (100 * x0 / img.width) + "%";
    el.style.top = (100 * y0 / img.height) + "%";
    el.style.width = (100 * (x1 - x0) / img.width) + "%";
    el.style.height = (100 * (y1 - y0) / img.height) + "%";
    if (y0 < img.height * 0.08) el.classList.add("below"); // keep the label on the picture
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = b.phrase || `box ${i + 1}`;
    el.append(label);
    layer.append(el);
  });
}

function clamp(v, lo, hi) { return Math.min(hi, Math.max(lo, Number(v) || 0)); }

function highlight(turn, index, on) {
  if (state.shown !== turn) showBoxes(turn);
  const layer = $("boxes");
  layer.classList.toggle("focus", on);
  for (const el of layer.children) el.classList.toggle("hot", on && el.dataset.index === String(index));
  for (const b of turn.view.querySelectorAll(".phrase")) b.classList.toggle("hot", on && b.dataset.index === String(index));
}

// ---- conversation ---------------------------------------------------------

function status(text) { $("status").textContent = text; }

function scrollLog() { const log = $("log"); log.scrollTop = log.scrollHeight; }

function addView(role, text) {
  const li = document.createElement("li");
  li.className = "msg " + role;
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = role === "user" ? "You" : "cogedge";
  li.append(who);
  if (role === "user" && state.image && !state.turns.some((t) => t.role === "user")) {
    const thumb = document.createElement("img");
    thumb.className = "thumb";
    thumb.src = state.image.url;
    thumb.alt = "with the picture " + state.image.name;
    li.append(thumb);
  }
  const p = document.createElement("p");
  p.className = "text";
  p.textContent = text;
  li.append(p);
  $("log").append(li);
  scrollLog();
  return li;
}

// apiMessages is the history in the API's form. The picture rides on the
// first user message only: the conversation carries it once, and the
// server's image cache recognises it on every later turn.
function apiMessages() {
  let first = true;
  return state.turns.filter((t) => t.text !== "" || t.role === "user").map((t) => {
    if (t.role === "user" && first && state.image) {
      first = false;
      return { role: "user", content: [
        { type: "image_url", image_url: { url: state.image.url } },
        { type: "text", text: t.text },
      ] };
    }
    if (t.role === "user") first = false;
    return { role: t.role, content: t.text };
  });
}

function settings() {
  const temp = Number($("temperature").value);
  const max = Math.round(Number($("max-tokens").value));
  return {
    temperature: Number.isFinite(temp) ? clamp(temp, 0, 2) : 0,
    max_tokens: Number.isFinite(max) && max > 0 ? max : 256,
  };
}

function updateButtons() {
  const busy = !!state.busy;
  $("send").disabled = busy;
  $("stop").disabled = !busy;
  const last = state.turns[state.turns.length - 1];
  // Regenerate redoes the last answer, or retries a question that failed.
  $("regenerate").disabled = busy || !last;
}

async function send(text) {
  // A question after a failed one replaces it (the API wants turns to alternate).
  const last = state.turns[state.turns.length - 1];
  if (last && last.role === "user") state.turns.pop();
  state.orphan = null; // its view stays, beside the question it answered
  state.turns.push({ role: "user", text, view: addView("user", text) });
  await complete();
}

async function regenerate() {
  const last = state.turns[state.turns.length - 1];
  if (!last) return;
  dropOrphan();
  if (last.role === "assistant") {
    state.turns.pop();
    last.view.remove();
    if (state.shown === last) clearBoxes();
  }
  await complete();
}

// dropOrphan removes the view of an answer that brought no text, when the
// question it failed on is asked again.
function dropOrphan() {
  if (state.orphan) state.orphan.remove();
  state.orphan = null;
}

function stop() {
  if (state.busy) state.busy.abort();
}

// complete asks the server for the next assistant turn and streams it into
// a new message view.
async function complete() {
  const turn = { role: "assistant", text: "", boxes: [], view: addView("assistant", "") };
  const textEl = turn.view.querySelector(".text");
  turn.view.setAttribute("aria-busy", "true");
  const ctrl = new AbortController();
  const epoch = state.epoch;
  const say = (text) => { if (epoch === state.epoch) status(text); };
  state.busy = ctrl;
  updateButtons();
  say("Waiting for the first token…");

  const body = Object.assign({ model: state.model || undefined, messages: apiMessages(), stream: true,
    stream_options: { include_usage: true } }, settings());
  const t0 = performance.now();
  let tFirst = 0, tLast = 0, pieces = 0, usageTokens = 0, serverRate = 0, finish = "";
  try {
    const res = await api("v1/chat/completions", {
      method: "POST", signal: ctrl.signal,
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(await errorText(res));
    for await (const data of sseData(res.body)) {
      if (data === "[DONE]") break;
      let chunk;
      try { chunk = JSON.parse(data); } catch (_) { throw new Error("the server sent an event that is not JSON"); }
      if (chunk.error) throw new Error(chunk.error.message || String(chunk.error));
      const choice = (chunk.choices || [])[0];
      if (choice) {
        const delta = choice.delta || choice.message || {};
        if (typeof delta.content === "string" && delta.content !== "") {
          if (!tFirst) { tFirst = performance.now(); say("Answering…"); }
          tLast = performance.now();
          pieces++;
          turn.text += delta.content;
          textEl.textContent = turn.text;
          scrollLog();
        }
        if (Array.isArray(delta.boxes)) turn.boxes = delta.boxes;
        if (choice.finish_reason) finish = choice.finish_reason;
      }
      if (chunk.usage && chunk.usage.completion_tokens) usageTokens = chunk.usage.completion_tokens;
      if (chunk.timings && chunk.timings.predicted_per_second > 0) serverRate = chunk.timings.predicted_per_second;
    }
    turn.view.dataset.state = "done";
    say("Answer complete.");
  } catch (err) {
    if (err.name === "AbortError") {
      turn.view.dataset.state = "stopped";
      say("Stopped.");
    } else {
      turn.view.dataset.state = "error";
      turn.view.classList.add("error");
      turn.failed = true;
      textEl.textContent = (turn.text ? turn.text + "\n\n" : "") + "Error: " + err.message;
      say("Error: " + err.message);
    }
  } finally {
    if (state.busy === ctrl) state.busy = null;
    turn.view.removeAttribute("aria-busy");
  }
  if (epoch !== state.epoch) { updateButtons(); return; } // the chat was reset meanwhile

  if (turn.text === "") {
    // Nothing came back (stopped or failed): the question stays the last
    // turn, so Regenerate retries it and a new question replaces it.
    state.orphan = turn.view;
  } else {
    state.turns.push(turn);
  }
  if (turn.boxes.length && !turn.failed) showText(textEl, turn.text);
  meta(turn, { t0, tFirst, tLast, tokens: usageTokens || pieces, rate: serverRate, finish });
  phrases(turn);
  if (turn.boxes.length) showBoxes(turn);
  updateButtons();
  scrollLog();
}

// COORDS matches a grounding answer's [[x0,y0,x1,y1]] groups.
const COORDS = /\[\[[0-9,;\s]*\]\]/g;

// showText writes an answer with its coordinates muted (the boxes on the
// picture say the same thing better); an answer that is only a box stays
// plain.
function showText(el, text) {
  el.replaceChildren();
  if (text.replace(COORDS, "").trim() === "") { el.textContent = text; return; }
  let last = 0;
  for (const m of text.matchAll(COORDS)) {
    el.append(text.slice(last, m.index));
    const span = document.createElement("span");
    span.className = "coords";
    span.textContent = m[0];
    el.append(span);
    last = m.index + m[0].length;
  }
  el.append(text.slice(last));
}

function meta(turn, m) {
  const parts = [];
  if (m.tFirst) parts.push(`first token ${((m.tFirst - m.t0) / 1000).toFixed(2)} s`);
  if (m.rate > 0) {
    // The server's own measure (its "timings"): no network or buffering in it.
    parts.push(`${m.rate.toFixed(1)} tokens/s`);
  } else if (m.tokens > 1 && m.tLast > m.tFirst) {
    // Rate over the decode as tokens arrive: the first token's time is the wait above.
    parts.push(`${((m.tokens - 1) / ((m.tLast - m.tFirst) / 1000)).toFixed(1)} tokens/s`);
  }
  if (m.tokens) parts.push(`${m.tokens} token${m.tokens === 1 ? "" : "s"}`);
  if (turn.view.dataset.state === "stopped") parts.push("stopped");
  else if (m.finish === "length") parts.push("cut at max tokens");
  if (!parts.length) return;
  const p = document.createElement("p");
  p.className = "meta";
  p.textContent = parts.join(" · ");
  turn.view.append(p);
}

function phrases(turn) {
  if (!turn.boxes.length) return;
  const list = document.createElement("ul");
  list.className = "phrases";
  list.setAttribute("aria-label", "Boxes on the picture");
  turn.boxes.forEach((b, i) => {
    const li = document.createElement("li");
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "phrase";
    btn.dataset.index = String(i);
    btn.style.setProperty("--c", BOX_COLORS[i % BOX_COLORS.length]);
    btn.textContent = b.phrase || `box ${i + 1}`;
    btn.setAttribute("aria-pressed", "false");
    btn.title = `box ${Math.round(b.x0)},${Math.round(b.y0)} to ${Math.round(b.x1)},${Math.round(b.y1)} (pixels)`;
    const on = () => highlight(turn, i, true);
    const off = () => { if (btn.getAttribute("aria-pressed") !== "true") highlight(turn, i, false); };
    btn.addEventListener("mouseenter", on);
    btn.addEventListener("mouseleave", off);
    btn.addEventListener("focus", on);
    btn.addEventListener("blur", off);
    btn.addEventListener("click", () => {
      // Tap (or Enter/Space) pins the highlight; again releases it.
      const pinned = btn.getAttribute("aria-pressed") !== "true";
      for (const other of list.querySelectorAll(".phrase")) other.setAttribute("aria-pressed", "false");
      btn.setAttribute("aria-pressed", String(pinned));
      highlight(turn, i, pinned);
    });
    li.append(btn);
    list.append(li);
  });
  turn.view.append(list);
}

// sseData yields the data field of each server-sent event in a byte stream.
async function* sseData(stream) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let end;
    while ((end = buf.search(/\r?\n\r?\n/)) >= 0) {
      const event = buf.slice(0, end);
      buf = buf.slice(end).replace(/^\r?\n\r?\n/, "");
      const data = event.split(/\r?\n/).filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).replace(/^ /, "")).join("\n");
      if (data !== "") yield data;
    }
  }
}

function resetChat() {
  stop();
  state.epoch++;
  state.busy = null;
  state.turns = [];
  state.orphan = null;
  $("log").replaceChildren();
  clearBoxes();
  updateButtons();
}

// ---- wiring ---------------------------------------------------------------

function init() {
  const drop = $("drop");
  for (const id of ["file", "camera"]) {
    $(id).addEventListener("change", (e) => { setPicture(e.target.files[0]).catch(() => {}); e.target.value = ""; });
  }
  // Dropping anywhere on the page picks the picture (instead of the browser
  // navigating away to the file).
  document.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  document.addEventListener("dragleave", (e) => { if (!e.relatedTarget) drop.classList.remove("over"); });
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const file = [...(e.dataTransfer.files || [])].find((f) => f.type.startsWith("image/"));
    if (file) setPicture(file).catch(() => {});
  });
  document.addEventListener("paste", (e) => {
    const file = [...(e.clipboardData.files || [])].find((f) => f.type.startsWith("image/"));
    if (file) { e.preventDefault(); setPicture(file).catch(() => {}); }
  });

  $("ask").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("prompt").value.trim();
    if (!text || state.busy) return;
    $("prompt").value = "";
    send(text);
  });
  $("prompt").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("ask").requestSubmit();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && state.busy) { e.preventDefault(); stop(); }
  });
  $("stop").addEventListener("click", stop);
  $("regenerate").addEventListener("click", () => { if (!state.busy) regenerate(); });
  $("new-chat").addEventListener("click", () => { resetChat(); status(state.image ? "New conversation about the same picture." : "New conversation."); $("prompt").focus(); });
  $("api-key-setting").addEventListener("click", async () => {
    if (await askKey("Enter the key given to cogedge serve --api-key. It is kept in this tab only.")) loadModel();
  });
  updateButtons();
  loadModel();
}

init();
