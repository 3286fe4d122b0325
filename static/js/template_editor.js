// The template editor: the variable palette and showing only the fields the channel uses.
// A file of its own because the CSP allows same-origin scripts only (no inline code).
"use strict";

(() => {
  const form = document.getElementById("template-form");
  if (!form) return;
  const body = form.elements.namedItem("body");
  let target = body; // the text field a palette click writes into: the last one focused

  form.addEventListener("focusin", (event) => {
    if (event.target.matches("textarea, input[type=text]")) target = event.target;
  });

  // <button data-insert="name"> puts {{ name }} at the cursor and asks for a new preview.
  form.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-insert]");
    if (!button || !target) return;
    const text = `{{ ${button.dataset.insert} }}`;
    const start = target.selectionStart ?? target.value.length;
    const end = target.selectionEnd ?? start;
    target.setRangeText(text, start, end, "end");
    target.focus();
    target.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // Sections marked data-channels / data-kinds show only for those values.
  const show = () => {
    const channel = form.elements.namedItem("channel").value;
    const kind = form.elements.namedItem("kind").value;
    form.querySelectorAll("[data-channels]").forEach((section) => {
      section.hidden = !section.dataset.channels.split(" ").includes(channel);
    });
    form.querySelectorAll("[data-kinds]").forEach((section) => {
      section.hidden = !section.dataset.kinds.split(" ").includes(kind);
    });
  };
  form.addEventListener("change", show);
  show();
})();
