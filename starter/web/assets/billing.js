// Progressive enhancement of the billing page: open and close its dialogs as modals,
// and show the total cost of the chosen extra credits.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-opens]")) {
    button.addEventListener("click", () => {
      document.getElementById(button.dataset.opens).showModal();
    });
  }
  for (const button of document.querySelectorAll("[data-closes]")) {
    button.addEventListener("click", () => button.closest("dialog").close());
  }
  // Rendered open so that it shows without script; reopened as a modal (focus kept inside).
  for (const dialog of document.querySelectorAll("dialog[data-show-on-load]")) {
    dialog.close();
    dialog.showModal();
  }
  const pack = document.getElementById("pack");
  const total = document.getElementById("pack-total");
  if (pack && total) {
    const show = () => { total.value = pack.selectedOptions[0].dataset.total; };
    pack.addEventListener("change", show);
    show();
  }
});
