// Client-side filtering and sorting of the model table; without JavaScript the table is shown whole.
(function () {
  var form = document.getElementById('filters');
  var table = document.getElementById('models');
  if (!form || !table) { return; }
  form.hidden = false;
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var count = document.getElementById('count');

  function matches(row, f) {
    var d = row.dataset;
    if (f.org && d.org !== f.org) { return false; }
    if (f.family && d.family !== f.family) { return false; }
    if (f.kind && d.kind !== f.kind) { return false; }
    if (f.license && d.license !== f.license) { return false; }
    if (f.cap && d.caps.split(' ').indexOf(f.cap) < 0) { return false; }
    if (Number(f.ctx) && Number(d.ctx) < Number(f.ctx)) { return false; }
    if (f.maxb && Number(d.params) > Number(f.maxb) * 1e9) { return false; }
    if (f.maxvram && Number(d.minvram) > Number(f.maxvram)) { return false; }
    if (f.gpu && d.fits.split(' ').indexOf(f.gpu + ':' + f.prec) < 0) { return false; }
    return true;
  }
  function apply() {
    var f = {};
    new FormData(form).forEach(function (v, k) { f[k] = String(v); });
    var shown = 0;
    rows.forEach(function (row) { var ok = matches(row, f); row.hidden = !ok; if (ok) { shown += 1; } });
    count.textContent = shown + ' of ' + rows.length + ' models';
  }
  form.addEventListener('input', apply);
  form.addEventListener('change', apply);
  apply();
})();

// Sortable tables: click (or press Enter on) a header to sort by that column.
(function () {
  document.querySelectorAll('table.sortable').forEach(function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, index) {
      th.tabIndex = 0;
      th.setAttribute('aria-sort', 'none');
      function sort() {
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(heads, function (h) { h.setAttribute('aria-sort', 'none'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var list = Array.prototype.slice.call(body.rows);
        list.sort(function (a, b) {
          var x = a.cells[index].dataset.value || a.cells[index].textContent.trim();
          var y = b.cells[index].dataset.value || b.cells[index].textContent.trim();
          var nx = parseFloat(x), ny = parseFloat(y);
          var cmp = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
          return asc ? cmp : -cmp;
        });
        list.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter') { sort(); } });
    });
  });
})();
