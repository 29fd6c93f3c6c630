// A container's page, live: its logs (follow, search, download), its stats as small charts,
// and a shell in an xterm.js console. Each talks to its own websocket on this site
// (/ws/containers/ID/{logs,stats,exec}/), which relays the container's host. No inline script
// or style: everything here is text, canvas drawing and CSSOM, within the site's CSP.
const scheme = location.protocol === "https:" ? "wss" : "ws";
const RECONNECT_MS = 3000;
const MAX_LINES = 5000;

function socketTo(path) {
  return new WebSocket(`${scheme}://${location.host}${path}`);
}

// A stream that ended with its container (a normal close) opens again once the page's
// state, which htmx refreshes every few seconds, says the container runs again.
function reopenWhenRunning(open) {
  let ended = false;
  document.body.addEventListener("htmx:afterSwap", () => {
    if (ended && document.getElementById("state")?.textContent.trim() === "running") {
      ended = false;
      open();
    }
  });
  return () => {
    ended = true;
  };
}

// --- logs ----------------------------------------------------------------------------------

function liveLogs(card) {
  const out = document.getElementById("logs");
  const follow = document.getElementById("logs-follow");
  const search = document.getElementById("logs-search");
  const status = document.getElementById("logs-status");

  function matches(text) {
    const wanted = search.value.trim().toLowerCase();
    return !wanted || text.toLowerCase().includes(wanted);
  }

  function add(lines) {
    for (const line of lines) {
      const row = document.createElement("span");
      row.className = `line ${line.stream}`;
      row.textContent = line.text.endsWith("\n") ? line.text : `${line.text}\n`;
      row.hidden = !matches(row.textContent);
      out.append(row);
    }
    while (out.childElementCount > MAX_LINES) out.firstElementChild.remove();
    if (follow.checked) out.scrollTop = out.scrollHeight;
  }

  search.addEventListener("input", () => {
    for (const row of out.children) row.hidden = !matches(row.textContent);
  });
  follow.addEventListener("change", () => {
    if (follow.checked) out.scrollTop = out.scrollHeight;
  });

  const ended = reopenWhenRunning(open);

  function open() {
    const socket = socketTo(card.dataset.socket);
    socket.onopen = () => {
      out.replaceChildren(); // a reconnect sends the last lines again
      status.textContent = "following";
      card.dataset.live = "live";
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "logs") add(message.lines);
      else if (message.type === "error") status.textContent = message.error;
    };
    socket.onclose = (event) => {
      card.dataset.live = "away";
      if (event.code === 1000) {
        status.textContent = "the container stopped; its logs end here";
        ended();
        return;
      }
      if (event.code === 4404 || event.code === 4401 || event.code === 4403) return;
      status.textContent = "reconnecting…";
      setTimeout(open, RECONNECT_MS);
    };
  }
  open();
}

// --- stats ---------------------------------------------------------------------------------

const POINTS = 60;
const COLORS = ["#1f6feb", "#d0661a"];

function bytes(n) {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i += 1;
  }
  return `${n.toFixed(n < 10 && i > 0 ? 1 : 0)} ${units[i]}`;
}

function mebibytes(n) {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

// One small line chart on a canvas: up to two series, the last POINTS samples, scaled to
// the largest value shown (at least FLOOR, so a quiet line stays low).
function chart(canvas, floor) {
  const series = [[], []];
  const ctx = canvas.getContext("2d");
  return (values) => {
    values.forEach((v, i) => {
      series[i].push(v);
      if (series[i].length > POINTS) series[i].shift();
    });
    const { width, height } = canvas;
    const top = Math.max(floor, ...series.flat());
    ctx.clearRect(0, 0, width, height);
    ctx.strokeStyle = "#e4e7ec";
    ctx.strokeRect(0.5, 0.5, width - 1, height - 1);
    series.forEach((points, i) => {
      if (points.length < 2) return;
      ctx.strokeStyle = COLORS[i];
      ctx.lineWidth = 2;
      ctx.beginPath();
      points.forEach((v, x) => {
        const px = (x / (POINTS - 1)) * (width - 4) + 2;
        const py = height - 3 - (v / top) * (height - 6);
        if (x === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      });
      ctx.stroke();
    });
  };
}

function liveStats(card) {
  const status = document.getElementById("stats-status");
  const draw = {
    cpu: chart(document.getElementById("chart-cpu"), 5),
    memory: chart(document.getElementById("chart-memory"), 1048576),
    network: chart(document.getElementById("chart-network"), 1000),
    blkio: chart(document.getElementById("chart-blkio"), 1000),
  };
  const shown = (id, text) => {
    document.getElementById(id).textContent = text;
  };
  let last = null;
  let samples = 0;

  function sample(s) {
    // totals become rates between two samples (the first sample has no rate yet)
    const dt = last ? Math.max(s.time - last.time, 0.001) : 1;
    const rate = (key) => (last ? Math.max(0, (s[key] - last[key]) / dt) : 0);
    const rx = rate("net_rx");
    const tx = rate("net_tx");
    const read = rate("blkio_read");
    const write = rate("blkio_write");
    last = s;
    samples += 1;
    card.dataset.samples = String(samples);
    draw.cpu([s.cpu_percent]);
    draw.memory([s.memory_usage]);
    draw.network([rx, tx]);
    draw.blkio([read, write]);
    shown("stat-cpu", `${s.cpu_percent.toFixed(2)} %`);
    shown("stat-memory", `${mebibytes(s.memory_usage)} of ${mebibytes(s.memory_limit)}`);
    shown("stat-network", `↓ ${bytes(rx)}/s ↑ ${bytes(tx)}/s (${bytes(s.net_rx)} / ${bytes(s.net_tx)})`);
    shown("stat-blkio", `read ${bytes(read)}/s, written ${bytes(write)}/s`);
  }

  const ended = reopenWhenRunning(open);

  function open() {
    const socket = socketTo(card.dataset.socket);
    socket.onopen = () => {
      status.textContent = "live";
      last = null; // no rate across the gap
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "stats") sample(message);
      else if (message.type === "end") status.textContent = message.reason;
      else if (message.type === "error") status.textContent = message.error;
    };
    socket.onclose = (event) => {
      const retry = event.code === 4503 || event.code === 4409; // host away, or not made yet
      if (event.code === 1000 || (event.code >= 4400 && !retry)) {
        if (!status.textContent || status.textContent === "live") status.textContent = "stopped";
        if (event.code === 1000) ended();
        return;
      }
      status.textContent = "reconnecting…";
      setTimeout(open, RECONNECT_MS);
    };
  }
  open();
}

// --- console -------------------------------------------------------------------------------

function console_(card) {
  const openButton = document.getElementById("console-open");
  const closeButton = document.getElementById("console-close");
  const status = document.getElementById("console-status");
  const box = document.getElementById("console");
  const encoder = new TextEncoder();
  let term = null;
  let fit = null;
  let socket = null;
  let received = 0;

  function finish(text) {
    status.textContent = text;
    card.dataset.state = "closed";
    openButton.hidden = false;
    closeButton.hidden = true;
    socket = null;
  }

  openButton.addEventListener("click", () => {
    if (!window.Terminal) {
      status.textContent = "the terminal could not be loaded";
      return;
    }
    box.hidden = false;
    if (!term) {
      term = new window.Terminal({
        cursorBlink: true,
        convertEol: false,
        fontSize: 14,
        fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace',
        theme: { background: "#0d1117", foreground: "#e6edf3", cursor: "#e6edf3" },
        // the canvas draws the text: the screen reader's copy of each row keeps it readable
        screenReaderMode: true,
      });
      // the canvas renderer, loaded before open(): xterm.js's own DOM renderer writes its
      // colours into <style> elements, which the CSP refuses (and ANSI colours were lost)
      term.loadAddon(new window.CanvasAddon.CanvasAddon());
      fit = new window.FitAddon.FitAddon();
      term.loadAddon(fit);
      term.open(box);
      term.onData((data) => {
        if (socket && socket.readyState === WebSocket.OPEN) socket.send(encoder.encode(data));
      });
      term.onResize(({ cols, rows }) => {
        if (socket && socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify({ type: "resize", cols, rows }));
        }
      });
      window.addEventListener("resize", () => fit.fit());
    }
    fit.fit();
    term.reset();
    // xterm.js draws nothing while it is out of view (it watches its own visibility)
    box.scrollIntoView({ block: "nearest" });
    socket = socketTo(`${card.dataset.socket}?cols=${term.cols}&rows=${term.rows}`);
    socket.binaryType = "arraybuffer";
    openButton.hidden = true;
    closeButton.hidden = false;
    status.textContent = "connecting…";
    card.dataset.state = "connecting";
    socket.onopen = () => {
      status.textContent = "connected";
      card.dataset.state = "open";
      term.focus();
    };
    socket.onmessage = (event) => {
      if (typeof event.data !== "string") {
        received += event.data.byteLength;
        card.dataset.received = String(received);
        term.write(new Uint8Array(event.data));
        return;
      }
      const message = JSON.parse(event.data);
      if (message.type === "exit") {
        term.write(`\r\n[the shell exited with code ${message.code}]\r\n`);
        status.textContent = `exited with code ${message.code}`;
        card.dataset.exitCode = String(message.code);
      } else if (message.type === "error") {
        term.write(`\r\n[${message.error}]\r\n`);
        status.textContent = message.error;
      }
    };
    socket.onclose = (event) => {
      const said = status.textContent.startsWith("exited") ? status.textContent : "";
      finish(said || (event.code === 1000 ? "closed" : `closed (${event.code})`));
    };
  });

  closeButton.addEventListener("click", () => {
    if (socket) socket.close();
  });
}

liveLogs(document.getElementById("logs-card"));
liveStats(document.getElementById("stats-card"));
const consoleCard = document.getElementById("console-card");
if (consoleCard) console_(consoleCard);
