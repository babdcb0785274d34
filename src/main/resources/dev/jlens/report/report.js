// Draws the report's plots from the embedded JSON, then checks that each one really rendered and
// writes the outcome into #jlens-selfcheck (read by the headless browser tests; hidden from the reader). Also makes the
// tables sortable and filterable.
(function () {
  'use strict';
  var CLASS_COLORS = { MATCH: '#d62728', CO_OCCURRING: '#ff7f0e', GEOMETRIC_ONLY: '#1f77b4', UNRELATED: '#9a9a9a' };
  var RES_COLORS = { coarse: '#d62728', fine: '#1f77b4' };
  var CONFIG = { displaylogo: false, responsive: false };
  var data = JSON.parse(document.getElementById('jlens-data').textContent);
  var check = { state: 'pending', errors: window.__jlensErrors || [], plots: {} };

  // plotly renders its strings as a small subset of HTML, so untrusted text is escaped before it gets there
  function esc(s) {
    return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  }
  function fmt(v) { return v === null ? 'n/a' : v.toFixed(3); }
  function isNum(v) { return typeof v === 'number' && isFinite(v); }

  function heatmap() {
    var c = data.cosine, t = data.config.thresholds;
    var x = c.fines.map(function (f) { return 'F' + f; });
    var y = c.anchors.map(function (a) { return 'A' + a; });
    var hover = c.z.map(function (row, i) {
      return row.map(function (v, j) { return 'anchor ' + c.anchors[i] + ' / fine ' + c.fines[j] + '<br>cosine ' + fmt(v); });
    });
    var traces = [{
      type: 'heatmap', x: x, y: y, z: c.z, zmin: -1, zmax: 1,
      // the PNG figure's colours: blue (-1), white (0), red (+1); missing cells show the grey background
      colorscale: [[0, '#2166ac'], [0.5, '#ffffff'], [1, '#b2182b']],
      text: hover, hoverinfo: 'text', colorbar: { title: { text: 'decoder cosine' } }
    }];
    // mark the matching cells so the structure behind the verdict is visible on the matrix itself
    var mx = [], my = [];
    data.scatter.forEach(function (p) {
      if (p.classification === 'MATCH') { mx.push('F' + p.fine); my.push('A' + p.anchor); }
    });
    if (mx.length) {
      traces.push({ type: 'scatter', mode: 'markers', x: mx, y: my, name: 'match',
        marker: { symbol: 'x-thin-open', size: 9, color: '#000', line: { width: 2 } }, hoverinfo: 'skip' });
    }
    var layout = {
      title: { text: 'Decoder cosine: anchors (coarse) x fine features' },
      // explicit ranges: autorange would pad for the match markers and show a bogus empty column
      xaxis: { type: 'category', title: { text: 'fine feature' }, tickangle: -60, automargin: true, range: [-0.5, x.length - 0.5] },
      yaxis: { type: 'category', title: { text: 'coarse anchor' }, automargin: true, range: [y.length - 0.5, -0.5] },
      height: Math.max(320, 140 + 26 * y.length), margin: { t: 50 }, plot_bgcolor: '#bdbdbd',
      legend: { orientation: 'h', y: 1.08, x: 1, xanchor: 'right' },
      annotations: [{ xref: 'paper', yref: 'paper', x: 0, y: 1.08, showarrow: false, xanchor: 'left',
        text: 'x marks a match (cosine > ' + t.minCosine + ', correlation > ' + t.minCorrelation + ')' }]
    };
    return Plotly.newPlot('plot-heatmap', traces, layout, CONFIG);
  }

  function scatter() {
    var t = data.config.thresholds, lo = Math.min(t.minCorrelation, t.minCosine, 0), hi = 1;
    var traces = Object.keys(CLASS_COLORS).map(function (cls) {
      // pairs with a missing (non-finite) value cannot be placed, so they are neither drawn nor counted
      var pts = data.scatter.filter(function (p) { return p.classification === cls && isNum(p.correlation) && isNum(p.cosine); });
      pts.forEach(function (p) {
        lo = Math.min(lo, p.correlation, p.cosine);
        hi = Math.max(hi, p.correlation, p.cosine);
      });
      return {
        type: 'scatter', mode: 'markers', name: cls.toLowerCase().replace('_', '-') + ' (' + pts.length + ')',
        x: pts.map(function (p) { return p.correlation; }), y: pts.map(function (p) { return p.cosine; }),
        text: pts.map(function (p) {
          return 'anchor ' + p.anchor + ' / fine ' + p.fine + '<br>corr ' + fmt(p.correlation) + ', cos ' + fmt(p.cosine);
        }),
        hoverinfo: 'text', marker: { color: CLASS_COLORS[cls], size: 8, opacity: 0.85 }
      };
    });
    var range = [lo - 0.05, hi + 0.05];
    var layout = {
      title: { text: 'Activation correlation vs decoder cosine (all anchor x fine pairs)' },
      xaxis: { title: { text: 'activation correlation (Pearson, all prompts)' }, range: range, zeroline: false },
      yaxis: { title: { text: 'decoder cosine' }, range: range, zeroline: false },
      height: 520, legend: { title: { text: 'classification' } },
      shapes: [
        { type: 'rect', xref: 'x', yref: 'y', x0: t.minCorrelation, x1: range[1], y0: t.minCosine, y1: range[1],
          fillcolor: 'rgba(214,39,40,0.08)', line: { width: 0 }, layer: 'below' },
        { type: 'line', xref: 'x', yref: 'paper', x0: t.minCorrelation, x1: t.minCorrelation, y0: 0, y1: 1,
          line: { dash: 'dash', color: '#444', width: 1.5 } },
        { type: 'line', xref: 'paper', yref: 'y', x0: 0, x1: 1, y0: t.minCosine, y1: t.minCosine,
          line: { dash: 'dash', color: '#444', width: 1.5 } }
      ],
      annotations: [{ x: range[1], y: range[1], xanchor: 'right', yanchor: 'top', showarrow: false,
        text: 'match region: corr > ' + t.minCorrelation + ', cos > ' + t.minCosine, font: { color: '#a00' } }]
    };
    return Plotly.newPlot('plot-scatter', traces, layout, CONFIG);
  }

  function cloud() {
    var cl = data.cloud, ev = cl.explainedVarianceRatio;
    var byKey = {};
    cl.points.forEach(function (p) { byKey[p.resolution + ':' + p.feature] = p; });
    var traces = ['coarse', 'fine'].map(function (res) {
      var pts = cl.points.filter(function (p) { return p.resolution === res; });
      return {
        type: 'scatter3d', mode: 'markers', name: res + ' features (' + pts.length + ')',
        x: pts.map(function (p) { return p.x; }), y: pts.map(function (p) { return p.y; }), z: pts.map(function (p) { return p.z; }),
        text: pts.map(function (p) { return esc(res + ' ' + p.feature + ': ' + p.label); }), hoverinfo: 'text',
        marker: { size: res === 'coarse' ? 7 : 4, color: RES_COLORS[res], opacity: 0.9 }
      };
    });
    // every matched pair as one segment; null breaks the polyline between segments
    var lx = [], ly = [], lz = [];
    cl.links.forEach(function (l) {
      var a = byKey['coarse:' + l.anchor], f = byKey['fine:' + l.fine];
      lx.push(a.x, f.x, null); ly.push(a.y, f.y, null); lz.push(a.z, f.z, null);
    });
    if (cl.links.length) {
      traces.push({ type: 'scatter3d', mode: 'lines', name: 'matched pair (' + cl.links.length + ')',
        x: lx, y: ly, z: lz, line: { color: '#2ca02c', width: 4 }, hoverinfo: 'skip' });
    }
    function axis(i) {
      return { title: { text: 'PC' + (i + 1) + (isNum(ev[i]) ? ' (' + (100 * ev[i]).toFixed(1) + '%)' : '') } };
    }
    var layout = {
      title: { text: 'Decoder directions of the top features, PCA to 3D' },
      scene: { xaxis: axis(0), yaxis: axis(1), zaxis: axis(2), aspectmode: 'cube' },
      height: 640, margin: { l: 0, r: 0, t: 50, b: 0 }, legend: { x: 0, y: 1 }
    };
    return Plotly.newPlot('plot-cloud', traces, layout, CONFIG);
  }

  // one colour per condition, never repeated: a fixed palette of distinct hues, then evenly spaced hues beyond it
  var PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#bcbd22', '#7f7f7f'];
  function conditionColour(i, n) {
    if (n <= PALETTE.length) return PALETTE[i];
    var h = Math.round(360 * i / n), s = 0.65, l = 0.42;
    // hsl -> hex, so hexA below can make the band colour
    var f = function (k) {
      var t = (k + h / 30) % 12, a = s * Math.min(l, 1 - l);
      return Math.round(255 * (l - a * Math.max(-1, Math.min(t - 3, 9 - t, 1))));
    };
    return '#' + [f(0), f(8), f(4)].map(function (v) { return (v < 16 ? '0' : '') + v.toString(16); }).join('');
  }

  // each curve is "<condition>: <score>": one colour per condition, one panel per score
  function steering() {
    var curves = data.steering.curves, conditions = [], scores = [];
    curves.forEach(function (c) {
      var k = c.condition.indexOf(': '), cond = k < 0 ? c.condition : c.condition.slice(0, k), score = k < 0 ? '' : c.condition.slice(k + 2);
      c._cond = cond; c._score = score;
      if (conditions.indexOf(cond) < 0) conditions.push(cond);
      if (scores.indexOf(score) < 0) scores.push(score);
    });
    var colours = {};
    conditions.forEach(function (cond, i) { colours[cond] = conditionColour(i, conditions.length); });
    check.steeringColours = colours;
    var traces = [];
    curves.forEach(function (c) {
      var col = colours[c._cond], panel = scores.indexOf(c._score), ax = panel === 0 ? '' : String(panel + 1);
      var xa = 'x' + ax, ya = 'y' + ax;
      // the CI band: upper bound, then lower bound filled up to it
      traces.push({ type: 'scatter', mode: 'lines', x: c.strength, y: c.ciHigh, xaxis: xa, yaxis: ya, line: { width: 0, color: col },
        hoverinfo: 'skip', showlegend: false, legendgroup: c._cond });
      traces.push({ type: 'scatter', mode: 'lines', x: c.strength, y: c.ciLow, xaxis: xa, yaxis: ya, line: { width: 0, color: col },
        fill: 'tonexty', fillcolor: hexA(col, 0.15), hoverinfo: 'skip', showlegend: false, legendgroup: c._cond });
      traces.push({ type: 'scatter', mode: 'lines+markers', name: esc(c._cond), x: c.strength, y: c.meanScore, xaxis: xa, yaxis: ya,
        legendgroup: c._cond, showlegend: panel === 0, text: c.strength.map(function (s, i) {
          return esc(c.condition) + '<br>strength ' + s + ': ' + fmt(c.meanScore[i]) + ' [' + fmt(c.ciLow[i]) + ', ' + fmt(c.ciHigh[i]) + ']';
        }), hoverinfo: 'text', line: { color: col, width: 2 }, marker: { color: col, size: 6 } });
    });
    var layout = {
      title: { text: 'Steering: mean score vs strength (band: 95% bootstrap interval)' },
      grid: { rows: 1, columns: Math.max(1, scores.length), pattern: 'independent' },
      height: 460, legend: { title: { text: 'condition' } }, annotations: []
    };
    scores.forEach(function (sc, i) {
      var ax = i === 0 ? '' : String(i + 1);
      layout['xaxis' + ax] = { title: { text: 'steering strength' } };
      layout['yaxis' + ax] = { title: { text: esc(sc || 'mean score') } };
    });
    return Plotly.newPlot('plot-steering', traces, layout, CONFIG);
  }

  function hexA(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + a + ')';
  }

  // --- self-check -------------------------------------------------------------------------------

  function svgMarks(id, selector) {
    var div = document.getElementById(id);
    if (!div || !div.querySelector('svg.main-svg')) return 0;
    return div.querySelectorAll(selector).length;
  }

  // copies the WebGL canvas into a 2D canvas and counts strongly coloured pixels (the markers; the
  // axes and grid are grey), so a blank or failed WebGL context does not count as rendered
  function colouredPixels(id) {
    var canvases = document.getElementById(id).querySelectorAll('canvas');
    var best = 0;
    for (var k = 0; k < canvases.length; k++) {
      var cv = canvases[k];
      if (!cv.width || !cv.height) continue;
      var copy = document.createElement('canvas');
      copy.width = cv.width; copy.height = cv.height;
      var ctx = copy.getContext('2d');
      ctx.drawImage(cv, 0, 0);
      var px = ctx.getImageData(0, 0, cv.width, cv.height).data, n = 0;
      for (var i = 0; i < px.length; i += 4) {
        var r = px[i], g = px[i + 1], b = px[i + 2];
        if (px[i + 3] > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 80) n++;
      }
      best = Math.max(best, n);
    }
    return best;
  }

  function measure() {
    var p = check.plots;
    p.heatmap = { marks: svgMarks('plot-heatmap', 'g.hm image') };
    p.heatmap.rendered = p.heatmap.marks > 0;
    var expected = data.scatter.filter(function (q) { return isNum(q.correlation) && isNum(q.cosine); }).length;
    p.scatter = { marks: svgMarks('plot-scatter', 'g.scatterlayer path.point'), expected: expected };
    p.scatter.rendered = p.scatter.marks > 0 && p.scatter.marks === expected;
    p.scatter.thresholdShapes = svgMarks('plot-scatter', 'path[data-index]');
    p.cloud = { colouredPixels: colouredPixels('plot-cloud') };
    p.cloud.rendered = p.cloud.colouredPixels > 50;
    if (data.steering) {
      p.steering = { marks: svgMarks('plot-steering', 'g.scatterlayer path.js-line') };
      p.steering.rendered = p.steering.marks > 0;
    }
    return Object.keys(p).every(function (k) { return p[k].rendered; });
  }

  function publish(state) {
    check.state = state;
    // anything fetched over a URL (data: and blob: are in-page) would mean the file is not self-contained
    check.resources = (performance.getEntriesByType ? performance.getEntriesByType('resource') : [])
      .map(function (r) { return r.name; }).filter(function (n) { return !/^(data|blob):/.test(n); });
    var el = document.getElementById('jlens-selfcheck');
    el.setAttribute('data-state', state);
    el.textContent = JSON.stringify(check, null, 1);
  }

  var attempts = 0;
  function finish() {
    // WebGL scenes draw on animation frames after newPlot resolves: poll a few times before giving up
    if (measure() || ++attempts >= 20) { publish('done'); return; }
    setTimeout(function () { requestAnimationFrame(finish); }, 100);
  }

  // --- tables: click a header to sort (again to reverse), a filter box keeps matching rows ----------

  function cellKey(td) {
    var t = td.textContent.trim(), n = parseFloat(t.replace(/[%,]/g, ''));
    return /^[-\u2212]?[0-9.]/.test(t) && isFinite(n) ? { num: t.charAt(0) === '\u2212' ? -Math.abs(n) : n } : { text: t.toLowerCase() };
  }
  function compareKeys(a, b) {
    // numbers before text (n/a and other words sort last), numbers by value, text alphabetically
    if ('num' in a && 'num' in b) return a.num - b.num;
    if ('num' in a) return -1;
    if ('num' in b) return 1;
    return a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
  }
  function sortable(table) {
    var head = table.rows[0];
    if (!head) return;
    Array.prototype.forEach.call(head.cells, function (th, col) {
      th.classList.add('sort');
      th.setAttribute('tabindex', '0');
      th.setAttribute('title', 'click to sort');
      function sortBy() {
        var dir = th.getAttribute('data-sort') === 'asc' ? 'desc' : 'asc';
        Array.prototype.forEach.call(head.cells, function (o) { o.removeAttribute('data-sort'); });
        th.setAttribute('data-sort', dir);
        var body = head.parentNode, rows = Array.prototype.slice.call(body.rows, 1);
        var keyed = rows.map(function (r, i) { return { row: r, key: cellKey(r.cells[col]), i: i }; });
        keyed.sort(function (a, b) {
          var c = compareKeys(a.key, b.key);
          return (dir === 'asc' ? c : -c) || a.i - b.i;
        });
        keyed.forEach(function (k) { body.appendChild(k.row); });
      }
      th.addEventListener('click', sortBy);
      th.addEventListener('keydown', function (ev) { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); sortBy(); } });
    });
  }
  function filterBox(input) {
    // the box filters the table (or the feature cards) that follows it in its container
    var scope = input.parentNode;
    input.addEventListener('input', function () {
      var q = input.value.trim().toLowerCase(), shown = 0;
      var items = scope.querySelector('table') ? Array.prototype.slice.call(scope.querySelector('table').rows, 1)
        : Array.prototype.slice.call(scope.querySelectorAll('details.feature'));
      items.forEach(function (el) {
        var hit = !q || el.textContent.toLowerCase().indexOf(q) >= 0;
        el.style.display = hit ? '' : 'none';
        if (hit) shown++;
      });
      input.setAttribute('data-shown', String(shown));
    });
  }
  try {
    Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), sortable);
    Array.prototype.forEach.call(document.querySelectorAll('input.filter'), filterBox);
    check.tables = document.querySelectorAll('table.sortable').length;
    check.shadedTokens = document.querySelectorAll('span.tok.on').length;
  } catch (e) {
    check.errors.push('table script failed: ' + (e && e.stack || e));
  }

  try {
    var jobs = [heatmap(), scatter(), cloud()];
    if (data.steering) jobs.push(steering());
    Promise.all(jobs).then(function () { requestAnimationFrame(finish); }, function (e) {
      check.errors.push('plot failed: ' + (e && e.stack || e));
      publish('done');
    });
  } catch (e) {
    check.errors.push('report script failed: ' + (e && e.stack || e));
    publish('done');
  }
})();
