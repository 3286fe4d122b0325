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
  // Without the Clipboard API (plain http, e.g. make run on a LAN address) or when the browser
  // refuses it, copy the selection the older way; if that fails too, the text stays selected.
  const copySelection = () => {
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    button.textContent = copied ? "Copied" : "Selected — press Ctrl+C";
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(source.value).then(
      () => { button.textContent = "Copied"; },
      () => { source.select(); copySelection(); },
    );
  } else {
    copySelection();
  }
});
