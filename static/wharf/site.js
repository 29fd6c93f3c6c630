// What every page needs from script (there is no inline script: see webapp/csp.py): a form
// marked data-confirm asks before it is sent (removing, revoking).
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
