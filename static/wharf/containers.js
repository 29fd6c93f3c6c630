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
// the rows refresh themselves from the inventory websocket: static/wharf/inventory-live.js
document.body.addEventListener("htmx:afterSwap", refresh);
refresh();
