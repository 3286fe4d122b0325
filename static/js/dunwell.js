// Page behaviour that htmx attributes do not cover. Loaded from a file because the CSP allows
// only same-origin scripts: no inline scripts or on* attributes anywhere.
"use strict";

// <button data-copy="id-of-input"> copies that input's value and says so in its own label.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  source.select();
  const done = () => { button.textContent = "Copied"; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(source.value).then(done, () => {});
  } else {
    // Plain http (e.g. make run on a LAN address): the text is selected for Ctrl+C instead.
    button.textContent = "Selected — press Ctrl+C";
  }
});
