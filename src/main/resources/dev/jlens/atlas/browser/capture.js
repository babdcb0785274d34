// Runs first on the page: records every window error, failed resource load, unhandled rejection and
// console.error in window.__atlasErrors, so the self-check element (read by the headless browser test) lists them.
(function () {
  var errors = [];
  window.__atlasErrors = errors;
  function text(x) {
    try { return x instanceof Error ? (x.stack || String(x)) : (typeof x === 'string' ? x : JSON.stringify(x)); }
    catch (e) { return String(x); }
  }
  function record(line) {
    errors.push(line);
    if (typeof window.__atlasOnError === 'function') window.__atlasOnError();
  }
  // capture phase: failed loads of script elements do not bubble to window, script errors do
  window.addEventListener('error', function (ev) {
    var t = ev.target;
    if (t && t !== window && (t.src || t.href)) { record('resource failed: ' + (t.src || t.href)); return; }
    record('error: ' + (ev.message || text(ev.error)) + (ev.filename ? ' at ' + ev.filename + ':' + ev.lineno : ''));
  }, true);
  window.addEventListener('unhandledrejection', function (ev) { record('unhandled rejection: ' + text(ev.reason)); });
  var origError = console.error;
  console.error = function () {
    record('console.error: ' + Array.prototype.map.call(arguments, text).join(' '));
    return origError.apply(console, arguments);
  };
})();
