// Draws the report's plots from the embedded JSON, then checks that each one really rendered and
// writes the outcome into #jlens-selfcheck (read by the headless browser test and visible on the page).
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

  function steering() {
    var palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
    var traces = [];
    data.steering.curves.forEach(function (c, i) {
      var col = palette[i % palette.length];
      // the CI band: upper bound, then lower bound filled up to it
      traces.push({ type: 'scatter', mode: 'lines', x: c.strength, y: c.ciHigh, line: { width: 0, color: col },
        hoverinfo: 'skip', showlegend: false });
      traces.push({ type: 'scatter', mode: 'lines', x: c.strength, y: c.ciLow, line: { width: 0, color: col },
        fill: 'tonexty', fillcolor: hexA(col, 0.15), hoverinfo: 'skip', showlegend: false });
      traces.push({ type: 'scatter', mode: 'lines+markers', name: esc(c.condition), x: c.strength, y: c.meanScore,
        line: { color: col, width: 2 }, marker: { color: col, size: 6 } });
    });
    var layout = {
      title: { text: 'Steering: mean score vs strength (band: confidence interval)' },
      xaxis: { title: { text: 'steering strength' } }, yaxis: { title: { text: 'mean score' } }, height: 460
    };
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
