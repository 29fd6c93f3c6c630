// Follow one job's output over its websocket: append lines by sequence number, show state
// changes, and reconnect (asking only for what was missed, ?after=<last seq shown>) if the
// socket drops. The reconnect delay doubles while the site is away and goes back to its
// first value once a connection has held, so a live view never lags after a few drops.
// A socket that has heard nothing, not even the server's keepalive, for WATCHDOG_MS is
// taken for dead (a half-open connection never fires onclose) and replaced.
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10000;
const HELD_MS = 3000;
const WATCHDOG_MS = 50000;
const ENDED = ["succeeded", "failed", "cancelled", "expired"];

const pre = document.getElementById("job-output");
const stateEl = document.getElementById("job-state");
const errorEl = document.getElementById("job-error");
const live = document.getElementById("job-live");
let lastSeq = Number(pre.dataset.lastSeq || 0);
let finished = ENDED.includes(stateEl.textContent.trim());
let delay = FIRST_DELAY_MS;

// A pull's page lists its layers, each with its last progress line ("<12 hex>: <status>").
const layers = document.getElementById("layers");
const LAYER_LINE = /^([0-9a-f]{12}): (.+)$/;

function showLayer(text) {
  const match = layers && LAYER_LINE.exec(text);
  if (!match) return;
  for (const waiting of layers.querySelectorAll(".waiting")) waiting.remove();
  let item = layers.querySelector(`li[data-layer="${match[1]}"]`);
  if (!item) {
    item = document.createElement("li");
    item.dataset.layer = match[1];
    const id = document.createElement("code");
    id.textContent = match[1];
    const status = document.createElement("span");
    status.className = "status";
    item.append(id, " ", status);
    layers.appendChild(item);
  }
  item.querySelector(".status").textContent = match[2];
}

function showLine(msg) {
  if (msg.seq <= lastSeq) return;
  lastSeq = msg.seq;
  pre.dataset.lastSeq = String(lastSeq);
  const span = document.createElement("span");
  span.className = `line ${msg.stream}`;
  span.dataset.seq = msg.seq;
  span.textContent = msg.text + "\n";
  pre.appendChild(span);
  showLayer(msg.text);
  pre.scrollTop = pre.scrollHeight;
}

function showState(msg) {
  stateEl.textContent = msg.state;
  stateEl.className = `state ${msg.state}`;
  if (msg.error) errorEl.textContent = msg.error;
  finished = ENDED.includes(msg.state);
  // what only makes sense while the job runs goes away when it ends
  for (const el of document.querySelectorAll("[data-while-active]")) el.hidden = finished;
}

function showConnection(text) {
  if (live) live.textContent = text;
  document.body.dataset.reconnectDelay = String(delay);
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws/jobs/${pre.dataset.job}/?after=${lastSeq}`);
  let held = null;
  let watchdog = null;
  const heard = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => ws.close(), WATCHDOG_MS);
  };
  ws.onopen = () => {
    heard();
    held = setTimeout(() => {
      delay = FIRST_DELAY_MS;
      showConnection("live");
    }, HELD_MS);
    showConnection("live");
  };
  ws.onmessage = (event) => {
    heard();
    const msg = JSON.parse(event.data);
    if (msg.type === "line") showLine(msg);
    else if (msg.type === "state") showState(msg);
  };
  ws.onclose = (event) => {
    clearTimeout(held);
    clearTimeout(watchdog);
    if (event.code === 4401 || event.code === 4404) {
      showConnection(event.code === 4401 ? "signed out: reload to sign in" : "job not found");
      return;
    }
    if (finished) {
      showConnection("");
      return;
    }
    showConnection(`reconnecting in ${Math.round(delay / 1000)} s`);
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  };
}

showConnection("");
if (!finished) connect();
