// Runs first on the page: records every window error, unhandled rejection and console.error so the
// self-check at the bottom can report them (a headless browser test reads that report).
(function () {
  var errors = [];
  window.__jlensErrors = errors;
  function text(x) {
    try { return x instanceof Error ? (x.stack || String(x)) : (typeof x === 'string' ? x : JSON.stringify(x)); }
    catch (e) { return String(x); }
  }
  // capture phase: failed resource loads (img, script...) do not bubble to window, script errors do
  window.addEventListener('error', function (ev) {
    var t = ev.target;
    if (t && t !== window && (t.src || t.href)) { errors.push('resource failed: ' + (t.src || t.href)); return; }
    errors.push('error: ' + (ev.message || text(ev.error)) + (ev.filename ? ' at ' + ev.filename + ':' + ev.lineno : ''));
  }, true);
  window.addEventListener('unhandledrejection', function (ev) { errors.push('unhandled rejection: ' + text(ev.reason)); });
  var origError = console.error;
  console.error = function () {
    errors.push('console.error: ' + Array.prototype.map.call(arguments, text).join(' '));
    return origError.apply(console, arguments);
  };
  // plotly's 3D scenes pick preserveDrawingBuffer from the user agent, not from its config, so we ask for
  // it here: without it the WebGL canvas may be cleared after compositing and could not be read back.
  var origGetContext = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (type, attrs) {
    if (type === 'webgl' || type === 'webgl2' || type === 'experimental-webgl') {
      attrs = Object.assign({}, attrs || {}, { preserveDrawingBuffer: true });
    }
    return origGetContext.call(this, type, attrs);
  };
})();
