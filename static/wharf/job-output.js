// Follow one job's output over its websocket: append lines by sequence number,
// show state changes, reconnect (asking only for what was missed) if the socket drops.
const pre = document.getElementById("job-output");
const stateEl = document.getElementById("job-state");
const errorEl = document.getElementById("job-error");
let lastSeq = Number(pre.dataset.lastSeq || 0);
let finished = ["succeeded", "failed", "cancelled"].includes(stateEl.textContent.trim());

function showLine(msg) {
  if (msg.seq <= lastSeq) return;
  lastSeq = msg.seq;
  const span = document.createElement("span");
  span.className = `line ${msg.stream}`;
  span.dataset.seq = msg.seq;
  span.textContent = msg.text + "\n";
  pre.appendChild(span);
  pre.scrollTop = pre.scrollHeight;
}

function showState(msg) {
  stateEl.textContent = msg.state;
  stateEl.className = `state ${msg.state}`;
  if (msg.error) errorEl.textContent = msg.error;
  finished = ["succeeded", "failed", "cancelled"].includes(msg.state);
}

function connect(delay) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws/jobs/${pre.dataset.job}/?after=${lastSeq}`);
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.type === "line") showLine(msg);
    else if (msg.type === "state") showState(msg);
  };
  ws.onclose = () => {
    if (!finished) setTimeout(() => connect(Math.min(delay * 2, 10000)), delay);
  };
}

if (!finished) connect(500);
