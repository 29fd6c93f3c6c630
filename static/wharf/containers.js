// The containers list's bulk bar: "select all" ticks every row shown, and the bar says how
// many rows are selected (its buttons do nothing until one is). The table replaces itself
// every few seconds (htmx); the rows' checkboxes are kept across swaps (hx-preserve), so the
// count is read again after each swap rather than kept here.
const form = document.getElementById("bulk");
const all = document.getElementById("select-all");
const count = document.getElementById("selected-count");

function boxes() {
  return Array.from(form.querySelectorAll('input[name="selected"]'));
}

function refresh() {
  const ticked = boxes().filter((b) => b.checked).length;
  count.textContent = `${ticked} selected`;
  all.checked = ticked > 0 && ticked === boxes().length;
  for (const button of form.querySelectorAll("button[name=action]")) {
    button.disabled = ticked === 0;
  }
}

all.addEventListener("change", () => {
  for (const b of boxes()) b.checked = all.checked;
  refresh();
});
form.addEventListener("change", (event) => {
  if (event.target.name === "selected") refresh();
});
form.addEventListener("submit", (event) => {
  if (event.submitter?.value === "remove" && !window.confirm("Remove the selected containers?")) {
    event.preventDefault();
  }
});
document.body.addEventListener("htmx:afterSwap", refresh);
refresh();

// Live rows: the inventory websocket says when a container changed; the table then asks for
// itself again (its filters and page kept by its hx-get). Changes arriving together make one
// request. The table also polls slowly, so a dropped socket only slows it down; the socket is
// opened again after a pause. The socket's state is shown in body's data-inventory-live.
const RECONNECT_MS = 3000;
let pending = null;

function changed() {
  if (pending) return;
  pending = setTimeout(() => {
    pending = null;
    const table = document.getElementById("containers-live");
    if (table && window.htmx) window.htmx.trigger(table, "inventory");
  }, 300);
}

function follow() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/inventory/`);
  socket.onopen = () => {
    document.body.dataset.inventoryLive = "live";
  };
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "inventory" && message.kind === "container") changed();
  };
  socket.onclose = () => {
    document.body.dataset.inventoryLive = "away";
    setTimeout(follow, RECONNECT_MS);
  };
}
follow();
