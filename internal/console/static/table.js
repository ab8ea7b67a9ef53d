// Tables that sort (click a header) and filter (type in the search box
// whose data-filter names the table), and "select all" boxes. No build
// step, no dependencies; served from the console's own origin, as its
// Content-Security-Policy requires.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("table.sortable")) {
    table.querySelectorAll("thead th").forEach((th, col) => {
      th.addEventListener("click", () => {
        const asc = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("thead th").forEach((o) => o.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        const body = table.tBodies[0];
        const rows = Array.from(body.rows);
        const key = (r) => (r.cells[col] ? r.cells[col].innerText.trim() : "");
        const num = rows.every((r) => key(r) === "" || !isNaN(Number(key(r))));
        rows.sort((a, b) => {
          const x = key(a), y = key(b);
          const c = num ? Number(x) - Number(y) : x.localeCompare(y);
          return asc ? c : -c;
        });
        rows.forEach((r) => body.appendChild(r));
      });
    });
  }
  for (const input of document.querySelectorAll("input[data-filter]")) {
    const table = document.getElementById(input.dataset.filter);
    input.addEventListener("input", () => {
      const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      for (const r of table.tBodies[0].rows) {
        const text = r.innerText.toLowerCase();
        r.hidden = !words.every((w) => text.includes(w));
      }
    });
  }
  for (const box of document.querySelectorAll("input[data-all]")) {
    box.addEventListener("change", () => {
      for (const b of box.form.querySelectorAll(`input[name="${box.dataset.all}"]`)) {
        if (!b.closest("tr").hidden) b.checked = box.checked;
      }
    });
  }
});
