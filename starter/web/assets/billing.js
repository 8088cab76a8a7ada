// Progressive enhancement of the billing page: open and close its dialogs as modals
// (focus stays inside; closing returns it to the button that opened them), and show
// the total cost of the chosen extra credits.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const openers = new Map();
  const open = (dialog, opener) => {
    openers.set(dialog, opener);
    dialog.showModal();
  };
  // Tab and Shift+Tab go round the open dialog's controls, never out of it.
  const focusable = "button:not([disabled]), select:not([disabled]), input:not([type=hidden]):not([disabled]), a[href]";
  for (const dialog of document.querySelectorAll("dialog")) {
    dialog.addEventListener("keydown", (event) => {
      if (event.key !== "Tab") {
        return;
      }
      const stops = [...dialog.querySelectorAll(focusable)];
      const first = stops[0], last = stops[stops.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    });
    dialog.addEventListener("close", () => {
      const opener = openers.get(dialog);
      if (opener && opener.isConnected) {
        opener.focus();
      }
    });
  }
  for (const button of document.querySelectorAll("[data-opens]")) {
    button.addEventListener("click", () => open(document.getElementById(button.dataset.opens), button));
  }
  for (const button of document.querySelectorAll("[data-closes]")) {
    button.addEventListener("click", () => button.closest("dialog").close());
  }
  // Rendered open so that it shows without script; reopened as a modal (focus kept
  // inside). Closed, focus goes to the page's main heading.
  for (const dialog of document.querySelectorAll("dialog[data-show-on-load]")) {
    dialog.close();
    open(dialog, document.querySelector("h1"));
  }
  const pack = document.getElementById("pack");
  const total = document.getElementById("pack-total");
  if (pack && total) {
    const show = () => { total.value = pack.selectedOptions[0].dataset.total; };
    pack.addEventListener("change", show);
    show();
  }
});
