// Pagefind's UI on the search page, with the query from the header's search box (?q=...).
(function () {
  function start() {
    var box = document.getElementById('search');
    if (!box || !window.PagefindUI) { return; }
    var ui = new window.PagefindUI({ element: '#search', bundlePath: box.dataset.bundle, showImages: false });
    var q = new URLSearchParams(window.location.search).get('q');
    if (q) { ui.triggerSearch(q); }
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
