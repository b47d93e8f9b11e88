// A perk change's rules rows (merchants/perks/templates/admin/perks/perkchange/rules_rows.html):
// "Add a condition" / "Add a tier" copy the empty row of the formset and count it in its
// management form. A file, not an inline handler: the admin runs under a Content Security
// Policy without inline script.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button.rules-add")) {
    button.addEventListener("click", () => {
      const prefix = button.dataset.prefix;
      const total = document.getElementById(`id_${prefix}-TOTAL_FORMS`);
      const most = document.getElementById(`id_${prefix}-MAX_NUM_FORMS`);
      const template = document.getElementById(`${prefix}-empty`);
      const body = document.querySelector(`#${prefix}-rows tbody`);
      const index = Number(total.value);
      if (most && index >= Number(most.value)) return;
      const row = template.content.firstElementChild.cloneNode(true);
      row.innerHTML = row.innerHTML.replaceAll("__prefix__", String(index));
      row.querySelector(".row-number").textContent = String(index + 1);
      body.appendChild(row);
      total.value = String(index + 1);
    });
  }
});
