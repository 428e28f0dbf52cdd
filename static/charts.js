// Draws every chart whose data the page embeds as JSON; plotly.js is loaded (deferred) only on chart pages.
(function () {
  function draw() {
    if (!window.Plotly) { return; }
    document.querySelectorAll('script[data-chart]').forEach(function (node) {
      var spec = JSON.parse(node.textContent);
      var box = document.getElementById(node.getAttribute('data-chart'));
      if (box) { if (spec.layout && spec.layout.height) { box.style.height = spec.layout.height + 'px'; } window.Plotly.newPlot(box, spec.data, spec.layout, spec.config); }
    });
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', draw); } else { draw(); }
})();
