// Draws every chart whose data the page embeds as JSON; plotly.js is loaded (deferred) only on chart pages.
(function () {
  var dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
  function themed(layout) {
    if (!dark) { return layout; }
    // Light-on-dark text and quiet grid lines, matching the site's dark palette.
    layout.font = Object.assign({}, layout.font, { color: '#e6e8ec' });
    ['xaxis', 'yaxis'].forEach(function (axis) {
      layout[axis] = Object.assign({ gridcolor: '#2e333c', zerolinecolor: '#2e333c' }, layout[axis] || {});
    });
    return layout;
  }
  function draw() {
    if (!window.Plotly) { return; }
    document.querySelectorAll('script[data-chart]').forEach(function (node) {
      var spec = JSON.parse(node.textContent);
      var box = document.getElementById(node.getAttribute('data-chart'));
      if (!box) { return; }
      if (spec.layout && spec.layout.height) { box.style.height = spec.layout.height + 'px'; }
      window.Plotly.newPlot(box, spec.data, themed(spec.layout), spec.config);
    });
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', draw); } else { draw(); }
})();
