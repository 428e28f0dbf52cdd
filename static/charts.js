// Draws every chart whose data the page embeds as JSON. plotly.js (about 1.2 MB) is fetched only when the
// first chart comes near the viewport, so a page's first paint never waits for it; without JavaScript each
// chart's numbers stay readable in the table below it.
(function () {
  var me = document.currentScript;
  var bundle = me && me.getAttribute('data-plotly');
  var dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
  var waiting = [];
  var requested = false;
  function themed(layout) {
    if (!dark) { return layout; }
    // Light-on-dark text and quiet grid lines: the page's own dark tokens (text, rules), which the build
    // writes into site.css from site_builder/pages/colours.py.
    var tokens = window.getComputedStyle(document.documentElement);
    var text = tokens.getPropertyValue('--fg').trim();
    var rule = tokens.getPropertyValue('--line').trim();
    layout.font = Object.assign({}, layout.font, { color: text });
    ['xaxis', 'yaxis'].forEach(function (axis) {
      layout[axis] = Object.assign({ gridcolor: rule, zerolinecolor: rule }, layout[axis] || {});
    });
    return layout;
  }
  function draw(node) {
    var spec = JSON.parse(node.textContent);
    var box = document.getElementById(node.getAttribute('data-chart'));
    if (!box) { return; }
    if (spec.layout && spec.layout.height) { box.style.height = spec.layout.height + 'px'; }
    window.Plotly.newPlot(box, spec.data, themed(spec.layout), spec.config);
  }
  function withPlotly(node) {
    if (window.Plotly) { draw(node); return; }
    waiting.push(node);
    if (requested || !bundle) { return; }
    requested = true;
    var script = document.createElement('script');
    script.src = bundle;
    script.onload = function () { waiting.splice(0).forEach(draw); };
    document.head.appendChild(script);
  }
  function start() {
    var nodes = Array.prototype.slice.call(document.querySelectorAll('script[data-chart]'));
    if (!('IntersectionObserver' in window)) { nodes.forEach(withPlotly); return; }
    var byBox = new Map();
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) { return; }
        observer.unobserve(entry.target);
        withPlotly(byBox.get(entry.target));
      });
    }, { rootMargin: '200px 0px' });
    nodes.forEach(function (node) {
      var box = document.getElementById(node.getAttribute('data-chart'));
      if (box) { byBox.set(box, node); observer.observe(box); }
    });
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
