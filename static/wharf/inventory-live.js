// Live lists: the inventory websocket says when an object of the user's teams changed; each
// element marked data-inventory="KIND" (a list's table, which knows its own filters and page
// through its hx-get) is then asked to refresh itself with the htmx event "inventory".
// Changes arriving together make one request per table. The tables also poll slowly, so a
// dropped socket only slows them down; the socket is opened again after a pause. The
// socket's state is shown in body's data-inventory-live ("live" or "away").
const RECONNECT_MS = 3000;
const pending = new Map();

function changed(kind) {
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

function follow() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/inventory/`);
  socket.onopen = () => {
    document.body.dataset.inventoryLive = "live";
  };
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "inventory" && typeof message.kind === "string") changed(message.kind);
  };
  socket.onclose = (event) => {
    document.body.dataset.inventoryLive = "away";
    if (event.code !== 4401) setTimeout(follow, RECONNECT_MS);
  };
}

if (document.querySelector("[data-inventory]")) follow();
