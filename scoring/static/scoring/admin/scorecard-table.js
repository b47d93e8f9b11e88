// A scorecard draft's table of factors and bins (scoring/admin_table.py): "Add a row"
// under each factor's bins, and the "from" cells and units following the chosen fact
// (a level's names, or a number in %, days or a count). Without this script the page
// still works: each factor has a blank row, and a blank factor at the end adds one.
// Loaded in the page's head (form media): it starts once the page is read.
function scorecardTable() {
  "use strict";
  const table = document.querySelector(".scorecard-table[data-field]");
  const unitsScript = document.getElementById("scorecard-fact-units");
  if (!table || !unitsScript) {
    return;
  }
  const units = JSON.parse(unitsScript.textContent);

  function fromControl(name, value, fact) {
    const info = units[fact];
    if (info && info.levels.length) {
      const select = document.createElement("select");
      select.name = name;
      select.setAttribute("aria-label", "From");
      select.add(new Option("—", ""));
      for (const [level, label] of info.levels) {
        select.add(new Option(label, String(level), false, String(level) === value));
      }
      if (value && !info.levels.some(([level]) => String(level) === value)) {
        // Not a level: kept (the check on saving says so), not lost on the way.
        select.add(new Option(value, value, false, true));
      }
      return [select];
    }
    const input = document.createElement("input");
    input.type = "text";
    input.inputMode = "numeric";
    input.size = 8;
    input.name = name;
    input.value = value;
    input.setAttribute("aria-label", "From");
    const unit = document.createElement("span");
    unit.className = "scorecard-unit";
    unit.textContent = info && info.unit !== "count" ? info.unit : "";
    return [input, document.createTextNode(" "), unit];
  }

  function followFact(factor) {
    const fact = factor.querySelector("select.scorecard-fact").value;
    const info = units[fact];
    factor.querySelectorAll(".scorecard-bins thead .scorecard-unit").forEach((unit) => {
      unit.textContent = info ? info.unit : "value";
    });
    factor.querySelectorAll("td.scorecard-from").forEach((cell) => {
      const control = cell.querySelector("input, select");
      cell.replaceChildren(...fromControl(control.name, control.value, fact));
    });
    const missing = factor.querySelector("tr.scorecard-missing");
    if (missing) {
      const input = missing.querySelector("input");
      missing.hidden = Boolean(info && !info.optional && !input.value);
    }
  }

  function addRow(factor) {
    const rows = factor.querySelectorAll("tr.scorecard-bin");
    const last = rows[rows.length - 1];
    const next = Math.max(...Array.from(rows, (row) => Number(row.dataset.bin))) + 1;
    const copy = last.cloneNode(true);
    copy.dataset.bin = String(next);
    copy.classList.remove("errors");
    copy.querySelectorAll("input, select").forEach((control) => {
      control.name = control.name.replace(/-bin-\d+-/, `-bin-${next}-`);
      if (control.type === "checkbox") {
        control.checked = false;
      } else {
        control.value = "";
      }
    });
    copy.querySelectorAll(".errorlist").forEach((list) => list.remove());
    last.after(copy);
  }

  table.querySelectorAll("tbody.scorecard-factor").forEach((factor) => {
    factor.querySelector("select.scorecard-fact").addEventListener("change", () => {
      followFact(factor);
    });
    const button = factor.querySelector("button.scorecard-add-bin");
    button.hidden = false;
    button.addEventListener("click", () => addRow(factor));
  });
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", scorecardTable);
} else {
  scorecardTable();
}
