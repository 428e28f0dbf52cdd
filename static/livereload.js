// Preview server only: poll the build status, reload after a rebuild, show build errors over the page.
(function () {
  var seen = null;
  function show(errors) {
    var box = document.getElementById('build-errors');
    if (!errors.length) { if (box) { box.remove(); } return; }
    if (!box) {
      box = document.createElement('div');
      box.id = 'build-errors';
      box.setAttribute('role', 'alert');
      box.className = 'build-errors';
      document.body.prepend(box);
    }
    box.textContent = '';
    var title = document.createElement('strong');
    title.textContent = 'The catalog has errors; showing the last good build:';
    box.appendChild(title);
    var list = document.createElement('ul');
    errors.forEach(function (e) { var li = document.createElement('li'); li.textContent = e; list.appendChild(li); });
    box.appendChild(list);
  }
  function poll() {
    fetch('/__status', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (s) {
      if (seen !== null && s.version !== seen && !s.errors.length) { window.location.reload(); return; }
      seen = s.version;
      show(s.errors);
    }).catch(function () { /* server restarting */ }).finally(function () { setTimeout(poll, 700); });
  }
  poll();
})();
