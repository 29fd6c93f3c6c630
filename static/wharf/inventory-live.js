// Live lists: the inventory websocket (/ws/inventory/) says when an object the user may see
// changed (a container, image, volume, network, host or job); each element marked
// data-inventory="KIND" (a list's table, which knows its own filters and page through its
// hx-get) is then asked to refresh itself with the htmx event "inventory". Changes arriving
// together make one request per table. Nothing polls: when the socket drops it is opened again
// after a pause that doubles up to a limit, and once it is back every table is read once, for
// what changed while it was away. The socket's state is body's data-inventory-live ("live" or
// "away").
const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 30000;
const pending = new Map();
let retry = FIRST_RETRY_MS;
let away = false;

function refresh(kind) {
  if (pending.has(kind)) return;
  pending.set(
    kind,
    setTimeout(() => {
      pending.delete(kind);
      for (const el of document.querySelectorAll(`[data-inventory="${kind}"]`)) {
        if (window.htmx) window.htmx.trigger(el, "inventory");
      }
    }, 300),
  );
}

function refreshAll() {
  const kinds = new Set([...document.querySelectorAll("[data-inventory]")].map((el) => el.dataset.inventory));
  for (const kind of kinds) refresh(kind);
}

function follow() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/inventory/`);
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "subscribed") {
      document.body.dataset.inventoryLive = "live";
      retry = FIRST_RETRY_MS;
      if (away) refreshAll();
      away = false;
    } else if (message.type === "inventory" && typeof message.kind === "string") {
      refresh(message.kind);
    }
  };
  socket.onclose = (event) => {
    document.body.dataset.inventoryLive = "away";
    away = true;
    if (event.code === 4401) return; // signed out: a reload shows the sign-in page
    setTimeout(follow, retry);
    retry = Math.min(retry * 2, LAST_RETRY_MS);
  };
}

if (document.querySelector("[data-inventory]")) follow();
