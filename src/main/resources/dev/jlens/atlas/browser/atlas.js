// The feature atlas browser. Data files in atlas-data/ are scripts that call jlensAtlas.index/page/tokens; they are
// loaded on demand with script elements (file:// allows those, not fetch). Every text from the data is put in the
// page with textContent or attributes, never parsed as HTML. Routes live in the URL hash:
//   #feature=337   one feature        #token=Paris   features whose top examples peak on that token
//   (anything else) the overview; its table state: sort, dir, q (filter), p (table page), dlo/dhi (density bin)
(function () {
  'use strict';

  var DATA = 'atlas-data/';
  var ROWS_PER_PAGE = 50;
  var TOP_SHOWN = 10;
  var TOKEN_ROWS = 100;
  var SVG_NS = 'http://www.w3.org/2000/svg';

  var app = document.getElementById('app');
  var selfCheck = document.getElementById('atlas-selfcheck');
  var ix = null;            // the index: meta, pageSize, pages, tokenBuckets, densityHistogram, activationEdges, features
  var rowOf = new Map();    // feature id -> row in ix.features
  var searchText = [];      // per row: lower-cased top tokens, for the table filter
  var pages = {};           // page number -> features
  var buckets = {};         // bucket number -> Map key -> {forms, features}
  var loading = {};         // file -> Promise
  var routeSeq = 0;
  var lastCheck = {};

  window.jlensAtlas = {
    index: function (data) { ix = data; },
    page: function (n, features) { pages[n] = features; },
    tokens: function (b, entries) {
      var m = new Map();
      entries.forEach(function (e) { m.set(e.key, e); });
      buckets[b] = m;
    }
  };

  // ---- loading -----------------------------------------------------------------------------------------------

  function load(file, ready) {
    if (ready()) return Promise.resolve();
    if (loading[file]) return loading[file];
    var p = new Promise(function (resolve, reject) {
      var s = document.createElement('script');
      s.src = DATA + file;
      s.onload = function () {
        if (ready()) resolve(); else reject(new Error(DATA + file + ' loaded but did not register its data'));
      };
      s.onerror = function () {
        delete loading[file];
        reject(new Error('cannot load ' + DATA + file + ' (is the atlas-data folder next to atlas.html?)'));
      };
      document.head.appendChild(s);
    });
    loading[file] = p;
    return p;
  }

  function pad(n, width) {
    var s = String(n);
    while (s.length < width) s = '0' + s;
    return s;
  }

  function pageFile(page) { return 'features-' + pad(page, 4) + '.js'; }
  function tokenFile(bucket) { return 'tokens-' + pad(bucket, 3) + '.js'; }

  // The search key and bucket of a token text: must match TokenIndex.key and TokenIndex.bucket in Java.
  function tokenKey(text) {
    var b = 0, e = text.length;
    while (b < e && isPad(text.charCodeAt(b))) b++;
    while (e > b && isPad(text.charCodeAt(e - 1))) e--;
    return (b === e ? text : text.substring(b, e)).toLowerCase();
  }
  function isPad(c) { return c === 0x20 || c === 0x2581; }
  function bucketOf(key, n) {
    var h = 0x811c9dc5 | 0;
    for (var i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    return (h >>> 0) % n;
  }

  // ---- DOM helpers -------------------------------------------------------------------------------------------

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVG_NS, tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    return e;
  }
  function link(href, text, cls) {
    var a = el('a', cls, text);
    a.href = href;
    return a;
  }
  function card(title, cls) {
    var s = el('section', 'card' + (cls ? ' ' + cls : ''));
    if (title) s.appendChild(el('h2', null, title));
    return s;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  // ---- numbers -----------------------------------------------------------------------------------------------

  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return 'n/a';
    if (v === 0) return '0';
    var a = Math.abs(v);
    if (a >= 1000) return v.toFixed(0);
    if (a >= 100) return v.toFixed(1);
    if (a >= 1) return v.toFixed(2);
    return v.toPrecision(3);
  }
  function pct(d) {
    if (!(d > 0)) return '0%';
    var p = 100 * d;
    return (p >= 10 ? p.toFixed(1) : p >= 0.01 ? p.toPrecision(3) : p.toExponential(2)) + '%';
  }
  function int(n) { return Number(n).toLocaleString('en-US'); }
  function oneIn(d) { return d > 0 ? '1 in ' + int(Math.round(1 / d)) + ' tokens' : 'never'; }

  // ---- token text made visible -------------------------------------------------------------------------------

  // Splits a token text into [text, special] runs: control, invisible and bidi characters become visible escapes
  // (marked special), so "\n", "\u0000" or a right-to-left override can neither vanish nor reorder the line.
  function visibleRuns(text) {
    if (text === '') return [['\u2205', true]];
    var runs = [], plain = '';
    function special(s) {
      if (plain) { runs.push([plain, false]); plain = ''; }
      runs.push([s, true]);
    }
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      if (c === 0x0a) special('\u21b5');
      else if (c === 0x09) special('\u21e5');
      else if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) special('\\x' + pad(c.toString(16), 2));
      else if (c === 0xad || c === 0x61c || (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e)
          || (c >= 0x2060 && c <= 0x206f) || c === 0xfeff || (c >= 0xfff9 && c <= 0xfffb)) {
        special('\\u' + pad(c.toString(16), 4));
      } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length
          && text.charCodeAt(i + 1) >= 0xdc00 && text.charCodeAt(i + 1) <= 0xdfff) {
        plain += text.charAt(i) + text.charAt(i + 1);
        i++;
      } else if (c >= 0xd800 && c <= 0xdfff) special('\\u' + c.toString(16));
      else plain += text.charAt(i);
    }
    if (plain) runs.push([plain, false]);
    return runs;
  }
  function appendVisible(parent, text) {
    visibleRuns(text).forEach(function (r) {
      if (r[1]) parent.appendChild(el('span', 'ctl', r[0]));
      else parent.appendChild(document.createTextNode(r[0]));
    });
    return parent;
  }
  function quoted(text) {
    return '\u201c' + visibleRuns(text).map(function (r) { return r[0]; }).join('') + '\u201d';
  }
  // A token shown on its own: a text of only spaces shows them as ␣, else it would look like an empty box.
  function tokenChip(text, cls) {
    var chip = el('span', 'chip' + (cls ? ' ' + cls : ''));
    if (/^ +$/.test(text)) chip.appendChild(el('span', 'ctl', text.replace(/ /g, '\u2423')));
    else appendVisible(chip, text);
    return chip;
  }

  // ---- self-check --------------------------------------------------------------------------------------------

  function writeCheck(state, info) {
    lastCheck = info || lastCheck;
    var out = {};
    for (var k in lastCheck) if (Object.prototype.hasOwnProperty.call(lastCheck, k)) out[k] = lastCheck[k];
    out.errors = window.__atlasErrors || [];
    out.ms = Math.round(performance.now()); // since navigation start
    selfCheck.setAttribute('data-state', state);
    selfCheck.textContent = JSON.stringify(out);
  }
  window.__atlasOnError = function () { writeCheck(selfCheck.getAttribute('data-state') || 'pending'); };

  // ---- routing -----------------------------------------------------------------------------------------------

  function hashParams() { return new URLSearchParams(location.hash.replace(/^#/, '')); }

  function route() {
    var seq = ++routeSeq;
    writeCheck('pending', { route: 'loading' });
    var p = hashParams();
    var done;
    try {
      if (p.has('feature')) done = showFeature(p.get('feature'));
      else if (p.has('token')) done = showToken(p.get('token'));
      else done = Promise.resolve(showOverview(p));
    } catch (e) {
      done = Promise.reject(e);
    }
    done.then(function (info) {
      if (seq === routeSeq) writeCheck('done', info);
    }, function (err) {
      if (seq !== routeSeq) return;
      console.error(err && err.message ? err.message : err);
      clear(app);
      var c = card('Could not show this page', 'error');
      c.appendChild(el('p', null, err && err.message ? err.message : String(err)));
      app.appendChild(c);
      writeCheck('done', { route: 'error', message: String(err && err.message ? err.message : err) });
    });
    window.scrollTo(0, 0);
  }

  function go(hash) {
    if (location.hash.replace(/^#/, '') === hash) route(); else location.hash = hash;
  }

  // ---- overview ----------------------------------------------------------------------------------------------

  function showOverview(p) {
    clear(app);
    app.appendChild(summaryCard());
    app.appendChild(densityCard(p));
    var table = tableCard(p);
    app.appendChild(table.node);
    return { route: 'overview', rows: table.shown, matching: table.matching };
  }

  function summaryCard() {
    var m = ix.meta, sae = m.sae || {};
    var c = card(null, 'summary');
    var head = el('div', 'summary-head');
    head.appendChild(el('h1', null, 'SAE ' + (sae.id || '')));
    head.appendChild(el('div', 'muted', (m.hook_name || '') + ' \u00b7 ' + basename(m.model || '')));
    c.appendChild(head);
    var alive = ix.features.id.length, dSae = sae.d_sae || alive;
    var facts = el('div', 'facts');
    fact(facts, 'Live features', int(alive), 'of ' + int(dSae) + ' (' + pct(alive / dSae) + ')');
    fact(facts, 'Never fired', int(dSae - alive), 'on this corpus');
    fact(facts, 'Tokens scanned', int(m.tokens || 0), int(m.contexts || 0) + ' contexts of ' + (m.context_length || '?'));
    fact(facts, 'Examples', 'top ' + (m.top_k || '?'), (m.quantile_intervals || 0) + ' intervals \u00d7 ' + (m.quantile_examples || 0));
    fact(facts, 'Layer', m.layer, sae.d_in ? 'd_in ' + sae.d_in : '');
    if (sae.neuronpedia_id) fact(facts, 'Neuronpedia', sae.neuronpedia_id, '');
    c.appendChild(facts);
    var more = el('details', 'meta');
    more.appendChild(el('summary', null, 'Run metadata'));
    more.appendChild(el('pre', null, JSON.stringify(m, null, 2)));
    c.appendChild(more);
    return c;
  }
  function fact(parent, label, value, note) {
    var f = el('div', 'fact');
    f.appendChild(el('div', 'label', label));
    f.appendChild(el('div', 'value', value));
    if (note) f.appendChild(el('div', 'note', note));
    parent.appendChild(f);
  }
  function basename(path) { return String(path).split(/[\\/]/).pop(); }

  function densityCard(p) {
    var h = ix.densityHistogram, c = card('Feature density');
    c.appendChild(el('p', 'muted', 'How often each live feature fires: log\u2081\u2080 of the fraction of scanned tokens on '
        + 'which it is non-zero. Click a bar to list those features.'));
    var lo = parseFloat(p.get('dlo')), hi = parseFloat(p.get('dhi'));
    c.appendChild(histogramSvg({
      id: 'density-histogram', width: 1080, height: 200, counts: h.counts, edges: h.edges, valueAxis: 'log',
      color: function () { return '#4a78c2'; },
      selected: function (i) { return h.edges[i] === lo && h.edges[i + 1] === hi; },
      title: function (i) {
        return int(h.counts[i]) + ' features with density 10^' + fmt(h.edges[i]) + ' \u2013 10^' + fmt(h.edges[i + 1]);
      },
      click: function (i) {
        var q = new URLSearchParams();
        q.set('dlo', String(h.edges[i]));
        q.set('dhi', String(h.edges[i + 1]));
        q.set('sort', 'density');
        go(q.toString());
      }
    }));
    return c;
  }

  // A bar chart over bins [edges[i], edges[i+1]); bars are equal width, so uneven bins stay readable.
  function histogramSvg(o) {
    var n = o.counts.length, W = o.width, H = o.height, L = 52, R = 24, T = 10, B = 34;
    var pw = W - L - R, ph = H - T - B, bw = pw / Math.max(n, 1);
    var peak = 0;
    o.counts.forEach(function (c) { if (c > peak) peak = c; });
    var s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: '100%', role: 'img', 'class': 'hist', id: o.id });
    s.appendChild(svg('line', { x1: L, y1: T + ph, x2: L + pw, y2: T + ph, 'class': 'axis' }));
    s.appendChild(svg('line', { x1: L, y1: T, x2: L, y2: T + ph, 'class': 'axis' }));
    [0, 0.5, 1].forEach(function (f) {
      var y = T + ph - f * ph;
      if (f > 0) s.appendChild(svg('line', { x1: L, y1: y, x2: L + pw, y2: y, 'class': 'grid' }));
      var t = svg('text', { x: L - 6, y: y + 4, 'class': 'tick', 'text-anchor': 'end' });
      t.textContent = int(Math.round(f * peak));
      s.appendChild(t);
    });
    for (var i = 0; i < n; i++) {
      var c = o.counts[i];
      var bh = peak > 0 ? (c / peak) * ph : 0;
      if (c > 0 && bh < 1) bh = 1;
      var g = svg('g', { 'class': 'bin' + (o.click ? ' clickable' : '') + (o.selected && o.selected(i) ? ' selected' : '') });
      // a full-height transparent target, so thin bars are easy to hover and click
      g.appendChild(svg('rect', { x: L + i * bw, y: T, width: bw, height: ph, 'class': 'hit' }));
      g.appendChild(svg('rect', { x: L + i * bw + (bw > 4 ? 0.5 : 0), y: T + ph - bh, width: Math.max(bw - (bw > 4 ? 1 : 0), 0.5),
        height: bh, fill: o.color(i, n), 'class': 'bar', 'data-count': c }));
      var tip = svg('title', {});
      tip.textContent = o.title(i);
      g.appendChild(tip);
      if (o.click) g.addEventListener('click', o.click.bind(null, i));
      s.appendChild(g);
    }
    ticks(o.edges, o.valueAxis).forEach(function (t) {
      var x = L + t.at * bw;
      s.appendChild(svg('line', { x1: x, y1: T + ph, x2: x, y2: T + ph + 4, 'class': 'axis' }));
      var label = svg('text', { x: x, y: T + ph + 18, 'class': 'tick', 'text-anchor': 'middle' });
      if (o.valueAxis === 'log') {
        label.textContent = '10';
        var sup = svg('tspan', { dy: -6, 'font-size': '9' });
        sup.textContent = String(t.value).replace('-', '\u2212');
        label.appendChild(sup);
      } else {
        label.textContent = fmt(t.value);
      }
      s.appendChild(label);
    });
    return s;
  }

  // Tick positions in bin units: integers for a log10 axis, else about six evenly spaced edges.
  function ticks(edges, mode) {
    var out = [], n = edges.length - 1;
    if (mode === 'log') {
      for (var v = Math.ceil(edges[0]); v <= edges[n]; v++) {
        for (var i = 0; i < n; i++) {
          if (v >= edges[i] && v <= edges[i + 1]) {
            out.push({ value: v, at: i + (v - edges[i]) / (edges[i + 1] - edges[i]) });
            break;
          }
        }
      }
      return out;
    }
    var step = Math.max(1, Math.ceil(n / 6));
    for (var j = 0; j <= n; j += step) out.push({ value: edges[j], at: j });
    if (out[out.length - 1].at !== n) out.push({ value: edges[n], at: n });
    return out;
  }

  var COLUMNS = [
    { key: 'id', label: 'Feature', num: true },
    { key: 'density', label: 'Density', num: true },
    { key: 'max', label: 'Max act.', num: true },
    { key: 'mean', label: 'Mean act.', num: true },
    { key: 'fires', label: 'Fires', num: true },
    { key: 'top', label: 'Top tokens', num: false }
  ];

  function tableCard(p) {
    var F = ix.features;
    var sort = COLUMNS.some(function (c) { return c.num && c.key === p.get('sort'); }) ? p.get('sort') : 'density';
    var dir = p.get('dir') === 'asc' ? 'asc' : (p.get('dir') === 'desc' ? 'desc' : (sort === 'id' ? 'asc' : 'desc'));
    var q = p.get('q') || '';
    var dlo = parseFloat(p.get('dlo')), dhi = parseFloat(p.get('dhi'));
    var c = card('Features');
    var tools = el('div', 'table-tools');
    var filter = el('input', 'filter');
    filter.type = 'search';
    filter.placeholder = 'Filter by top token or feature id';
    filter.value = q;
    tools.appendChild(filter);
    if (isFinite(dlo) && isFinite(dhi)) {
      var chip = el('span', 'filter-chip', 'density 10^' + fmt(dlo) + ' \u2013 10^' + fmt(dhi) + ' ');
      var x = link('#', '\u2715', 'remove');
      x.title = 'clear the density filter';
      x.addEventListener('click', function (ev) {
        ev.preventDefault();
        var np = hashParams();
        np.delete('dlo'); np.delete('dhi'); np.delete('p');
        go(np.toString());
      });
      chip.appendChild(x);
      tools.appendChild(chip);
    }
    var count = el('span', 'muted count');
    tools.appendChild(count);
    c.appendChild(tools);

    var table = el('table', 'features');
    table.id = 'feature-table';
    var thead = el('thead'), hr = el('tr');
    COLUMNS.forEach(function (col) {
      var th = el('th', col.num ? 'num' : null, col.label);
      if (col.num) {
        th.classList.add('sortable');
        if (col.key === sort) th.classList.add(dir);
        th.title = 'sort by ' + col.label.toLowerCase();
        th.addEventListener('click', function () {
          var np = hashParams();
          var nextDir = col.key === sort ? (dir === 'desc' ? 'asc' : 'desc') : (col.key === 'id' ? 'asc' : 'desc');
          np.set('sort', col.key);
          np.set('dir', nextDir);
          np.delete('p');
          go(np.toString());
        });
      }
      hr.appendChild(th);
    });
    thead.appendChild(hr);
    table.appendChild(thead);
    var tbody = el('tbody');
    table.appendChild(tbody);
    c.appendChild(table);
    var pager = el('div', 'pager');
    c.appendChild(pager);

    var result = { node: c, shown: 0, matching: 0 };
    var pageNo = Math.max(0, parseInt(p.get('p'), 10) || 0);

    function rows(query) {
      var needle = tokenKey(query);
      var idQuery = /^\d+$/.test(query.trim()) ? query.trim() : null;
      var out = [];
      for (var r = 0; r < F.id.length; r++) {
        if (isFinite(dlo) && isFinite(dhi)) {
          var ld = Math.log10(F.density[r]);
          if (!(ld >= dlo && (ld < dhi || (ld === dhi && dhi === ix.densityHistogram.edges[ix.densityHistogram.edges.length - 1])))) continue;
        }
        if (needle && !(idQuery !== null && String(F.id[r]).indexOf(idQuery) === 0) && searchText[r].indexOf(needle) < 0) continue;
        out.push(r);
      }
      var key = sort === 'id' ? F.id : F[sort], sign = dir === 'asc' ? 1 : -1;
      out.sort(function (a, b) { return sign * (key[a] - key[b]) || F.id[a] - F.id[b]; });
      return out;
    }

    function render(query) {
      var list = rows(query);
      var last = Math.max(0, Math.ceil(list.length / ROWS_PER_PAGE) - 1);
      if (pageNo > last) pageNo = last;
      clear(tbody);
      var from = pageNo * ROWS_PER_PAGE, to = Math.min(list.length, from + ROWS_PER_PAGE);
      for (var i = from; i < to; i++) tbody.appendChild(featureRow(list[i]));
      count.textContent = int(list.length) + ' of ' + int(F.id.length) + ' live features';
      clear(pager);
      if (list.length > ROWS_PER_PAGE) {
        pager.appendChild(pagerButton('\u2190 Previous', pageNo > 0, pageNo - 1));
        pager.appendChild(el('span', 'muted', 'rows ' + int(from + 1) + '\u2013' + int(to) + ' of ' + int(list.length)));
        pager.appendChild(pagerButton('Next \u2192', pageNo < last, pageNo + 1));
      }
      result.shown = to - from;
      result.matching = list.length;
    }

    function pagerButton(label, enabled, target) {
      var b = el('button', 'pager-button', label);
      b.disabled = !enabled;
      b.addEventListener('click', function () {
        var np = hashParams();
        np.set('p', String(target));
        go(np.toString());
      });
      return b;
    }

    filter.addEventListener('input', function () {
      var np = hashParams();
      if (filter.value) np.set('q', filter.value); else np.delete('q');
      np.delete('p');
      pageNo = 0;
      history.replaceState(null, '', '#' + np.toString());
      render(filter.value);
    });
    render(q);
    return result;
  }

  function featureRow(r) {
    var F = ix.features, id = F.id[r];
    var tr = el('tr', 'feature-row');
    tr.setAttribute('data-feature', id);
    var idCell = el('td', 'num');
    idCell.appendChild(link('#feature=' + id, '#' + id));
    tr.appendChild(idCell);
    tr.appendChild(el('td', 'num', pct(F.density[r])));
    tr.appendChild(el('td', 'num', fmt(F.max[r])));
    tr.appendChild(el('td', 'num', fmt(F.mean[r])));
    tr.appendChild(el('td', 'num', int(F.fires[r])));
    var tops = el('td', 'tops');
    F.top[r].forEach(function (t) { tops.appendChild(tokenChip(t)); });
    tr.appendChild(tops);
    tr.addEventListener('click', function (ev) {
      if (ev.target.closest && ev.target.closest('a')) return; // the link navigates by itself
      go('feature=' + id);
    });
    return tr;
  }

  // ---- one feature -------------------------------------------------------------------------------------------

  function showFeature(raw) {
    var dSae = (ix.meta.sae && ix.meta.sae.d_sae) || Infinity;
    if (!/^\s*\d+\s*$/.test(raw) || +raw >= dSae) {
      clear(app);
      var c = card('No such feature', 'error');
      c.appendChild(el('p', null, quoted(raw) + ' is not a feature id of this SAE (0 \u2013 ' + (dSae - 1) + ').'));
      app.appendChild(c);
      return Promise.resolve({ route: 'feature', feature: null, invalid: raw });
    }
    var id = +raw;
    var r = rowOf.get(id);
    clear(app);
    app.appendChild(featureHeader(id));
    if (r === undefined) {
      var dead = card(null, 'dead');
      dead.appendChild(el('p', null, 'Feature ' + id + ' never fired on the ' + int(ix.meta.tokens || 0)
          + ' tokens scanned, so it has no examples.'));
      app.appendChild(dead);
      return Promise.resolve({ route: 'feature', feature: id, dead: true });
    }
    var page = Math.floor(id / ix.pageSize);
    var wait = el('p', 'loading', 'Loading feature ' + id + '\u2026');
    app.appendChild(wait);
    return load(pageFile(page), function () { return pages[page] !== undefined; }).then(function () {
      var f = null;
      pages[page].forEach(function (x) { if (x.feature === id) f = x; });
      if (!f) throw new Error('feature ' + id + ' is in the index but not in ' + pageFile(page));
      app.removeChild(wait);
      renderFeature(f);
      return {
        route: 'feature', feature: id,
        shaded: app.querySelectorAll('#top-examples .tok.on').length,
        maxTokens: app.querySelectorAll('#top-examples .tok.max').length,
        examples: app.querySelectorAll('.example').length
      };
    });
  }

  function featureHeader(id) {
    var F = ix.features, ids = F.id;
    var bar = el('div', 'feature-nav');
    bar.appendChild(link('#', '\u2190 All features', 'back'));
    var i = lowerBound(ids, id);
    var prev = ids[i - 1], next = ids[ids[i] === id ? i + 1 : i];
    var nav = el('span', 'prevnext');
    if (prev !== undefined) nav.appendChild(link('#feature=' + prev, '\u2039 #' + prev, 'prev'));
    if (next !== undefined) nav.appendChild(link('#feature=' + next, '#' + next + ' \u203a', 'next'));
    bar.appendChild(nav);
    var np = ix.meta.sae && ix.meta.sae.neuronpedia_id;
    if (np) {
      var ext = link('https://www.neuronpedia.org/' + np + '/' + id, 'Neuronpedia \u2197', 'external');
      ext.target = '_blank';
      ext.rel = 'noopener noreferrer';
      bar.appendChild(ext);
    }
    return bar;
  }

  function lowerBound(a, v) {
    var lo = 0, hi = a.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (a[mid] < v) lo = mid + 1; else hi = mid; }
    return lo;
  }

  function renderFeature(f) {
    var view = el('div', 'feature-view');
    view.id = 'feature-view';
    view.setAttribute('data-feature', f.feature);
    var head = card(null, 'feature-head');
    var title = el('div', 'title-row');
    title.appendChild(el('h1', null, 'Feature ' + f.feature));
    var tops = el('span', 'tops');
    var counts = new Map();
    f.top.forEach(function (e) {
      var t = e.tokens[e.position - e.start];
      counts.set(t, (counts.get(t) || 0) + 1);
    });
    Array.from(counts.entries()).sort(function (a, b) { return b[1] - a[1]; }).slice(0, 5).forEach(function (kv) {
      tops.appendChild(tokenChip(kv[0]));
    });
    title.appendChild(tops);
    head.appendChild(title);
    var facts = el('div', 'facts');
    fact(facts, 'Density', pct(f.density), oneIn(f.density));
    fact(facts, 'Fires', int(f.fires), 'of ' + int(f.tokens) + ' tokens');
    fact(facts, 'Max activation', fmt(f.max), '');
    fact(facts, 'Mean activation', fmt(f.mean), 'when firing');
    head.appendChild(facts);
    view.appendChild(head);

    var grid = el('div', 'grid2');
    grid.appendChild(activationCard(f));
    grid.appendChild(logitCard(f));
    view.appendChild(grid);
    view.appendChild(topCard(f));
    view.appendChild(quantileCard(f));
    app.appendChild(view);
  }

  function activationCard(f) {
    var c = card('Activation histogram');
    var edges = ix.activationEdges, lo = f.histogram.lo, counts = f.histogram.counts;
    c.appendChild(el('p', 'muted', int(f.fires) + ' firing tokens in the shared activation bins '
        + fmt(edges[lo]) + ' \u2013 ' + fmt(edges[lo + counts.length]) + '.'));
    c.appendChild(histogramSvg({
      id: 'activation-histogram', width: 560, height: 190, counts: counts,
      edges: edges.slice(lo, lo + counts.length + 1), valueAxis: 'linear',
      color: function (i, n) { return 'rgba(230, 100, 0, ' + (0.35 + 0.65 * (i + 1) / n).toFixed(3) + ')'; },
      title: function (i) {
        return int(counts[i]) + ' tokens with activation ' + fmt(edges[lo + i]) + ' \u2013 ' + fmt(edges[lo + i + 1]);
      }
    }));
    return c;
  }

  function logitCard(f) {
    var c = card('Logit lens');
    c.appendChild(el('p', 'muted', 'Tokens whose logits this feature\u2019s decoder direction raises and lowers most'
        + (ix.meta.logit_lens && ix.meta.logit_lens.unembedding ? ' (unembedding: ' + ix.meta.logit_lens.unembedding + ')' : '') + '.'));
    var cols = el('div', 'logits');
    cols.appendChild(logitList('Promoted', f.logits.positive, 'pos'));
    cols.appendChild(logitList('Suppressed', f.logits.negative, 'neg'));
    c.appendChild(cols);
    return c;
  }

  function logitList(label, items, cls) {
    var box = el('div', 'logit-list ' + cls);
    box.appendChild(el('h3', null, label));
    if (!items.length) box.appendChild(el('p', 'muted', 'none recorded'));
    var peak = 0;
    items.forEach(function (it) { peak = Math.max(peak, Math.abs(it[1])); });
    var t = el('table', 'logit-table');
    items.forEach(function (it) {
      var tr = el('tr');
      var tok = el('td');
      tok.appendChild(tokenChip(it[0]));
      tr.appendChild(tok);
      var v = el('td', 'num');
      var barBox = el('span', 'logit-bar');
      var bar = el('span', 'fill');
      bar.style.width = (peak > 0 ? 100 * Math.abs(it[1]) / peak : 0).toFixed(1) + '%';
      barBox.appendChild(bar);
      v.appendChild(barBox);
      v.appendChild(el('span', 'v', (it[1] > 0 ? '+' : '') + fmt(it[1])));
      tr.appendChild(v);
      t.appendChild(tr);
    });
    box.appendChild(t);
    return box;
  }

  function topCard(f) {
    var c = card('Top activations');
    c.id = 'top-examples';
    c.appendChild(el('p', 'muted', 'The contexts where feature ' + f.feature + ' fired hardest. Shading: activation '
        + '\u00f7 the feature\u2019s max (' + fmt(f.max) + '); the outlined token is where it peaked. Hover a token for its value.'));
    var list = el('div', 'examples');
    f.top.slice(0, TOP_SHOWN).forEach(function (e) { list.appendChild(example(e, f.max)); });
    c.appendChild(list);
    if (f.top.length > TOP_SHOWN) {
      var more = el('details', 'more');
      more.appendChild(el('summary', null, 'Show ' + (f.top.length - TOP_SHOWN) + ' more'));
      var rest = el('div', 'examples');
      f.top.slice(TOP_SHOWN).forEach(function (e) { rest.appendChild(example(e, f.max)); });
      more.appendChild(rest);
      c.appendChild(more);
    }
    if (!f.top.length) c.appendChild(el('p', 'muted', 'No examples recorded.'));
    return c;
  }

  function quantileCard(f) {
    var c = card('Examples across the activation range');
    c.id = 'quantile-examples';
    c.appendChild(el('p', 'muted', 'Contexts sampled from equal-width intervals of [0, max], highest first.'));
    f.quantiles.slice().reverse().forEach(function (q) {
      var d = el('details', 'interval');
      var s = el('summary');
      s.appendChild(el('span', 'range', fmt(q.lo) + ' \u2013 ' + fmt(q.hi)));
      s.appendChild(el('span', 'muted', ' \u00b7 ' + q.examples.length + ' example' + (q.examples.length === 1 ? '' : 's')));
      d.appendChild(s);
      var list = el('div', 'examples');
      q.examples.forEach(function (e) { list.appendChild(example(e, f.max)); });
      d.appendChild(list);
      c.appendChild(d);
    });
    if (!f.quantiles.length) c.appendChild(el('p', 'muted', 'No interval examples recorded.'));
    return c;
  }

  function example(e, max) {
    var row = el('div', 'example');
    var meta = el('div', 'ex-meta');
    meta.appendChild(el('span', 'ex-value', fmt(e.value)));
    meta.appendChild(el('span', 'ex-ctx', 'ctx ' + e.context + ':' + e.position));
    row.appendChild(meta);
    var strip = el('div', 'strip');
    if (e.start > 0) strip.appendChild(el('span', 'cut', '\u2026'));
    var at = e.position - e.start;
    for (var i = 0; i < e.tokens.length; i++) {
      var v = e.values[i];
      var t = appendVisible(el('span', 'tok'), e.tokens[i]);
      t.setAttribute('data-v', String(v));
      if (v > 0) {
        t.classList.add('on');
        var a = max > 0 ? Math.min(1, v / max) : 1;
        t.style.backgroundColor = 'rgba(255, 112, 0, ' + a.toFixed(3) + ')';
      }
      if (i === at) t.classList.add('max');
      t.title = quoted(e.tokens[i]) + '  activation ' + (v === 0 ? '0' : String(v));
      strip.appendChild(t);
    }
    row.appendChild(strip);
    return row;
  }

  // ---- token search ------------------------------------------------------------------------------------------

  function showToken(q) {
    clear(app);
    var key = tokenKey(q);
    var c = card(null, 'token-search');
    var h = el('h1');
    h.appendChild(document.createTextNode('Features that peak on '));
    h.appendChild(tokenChip(q, 'big'));
    c.appendChild(h);
    app.appendChild(c);
    if (!key) {
      c.appendChild(el('p', 'muted', 'Type a token in the search box above.'));
      return Promise.resolve({ route: 'token', query: q, features: [] });
    }
    var b = bucketOf(key, ix.tokenBuckets);
    return load(tokenFile(b), function () { return buckets[b] !== undefined; }).then(function () {
      var entry = buckets[b].get(key);
      var hits = entry ? entry.features : [];
      var note = el('p', 'muted');
      if (entry) {
        note.appendChild(document.createTextNode(int(hits.length) + ' feature' + (hits.length === 1 ? '' : 's')
            + ' with top examples whose max token is one of '));
        entry.forms.forEach(function (form) { note.appendChild(tokenChip(form)); });
        note.appendChild(document.createTextNode(' (case and surrounding spaces ignored). Most such examples first.'));
      } else {
        note.textContent = 'No feature has a top example peaking on this token (case and surrounding spaces ignored).';
      }
      c.appendChild(note);
      if (hits.length) {
        var t = el('table', 'features');
        t.id = 'token-results';
        var hr = el('tr');
        ['Feature', 'Top examples on it', 'Best act.', 'Density', 'Max act.', 'Top tokens'].forEach(function (label, i) {
          hr.appendChild(el('th', i < 5 ? 'num' : null, label));
        });
        var thead = el('thead');
        thead.appendChild(hr);
        t.appendChild(thead);
        var tb = el('tbody');
        var more = hits.length > TOKEN_ROWS ? el('button', 'pager-button', 'Show all ' + int(hits.length)) : null;
        if (more) more.addEventListener('click', function () {
          hits.slice(TOKEN_ROWS).forEach(function (hit) { tb.appendChild(hitRow(hit)); });
          more.parentNode.removeChild(more);
        });
        hits.slice(0, TOKEN_ROWS).forEach(function (hit) { tb.appendChild(hitRow(hit)); });
        t.appendChild(tb);
        c.appendChild(t);
        if (more) c.appendChild(more);
      }
      return { route: 'token', query: q, key: key, features: hits.map(function (x) { return x[0]; }) };
    });
  }

  function hitRow(hit) {
    var r = rowOf.get(hit[0]);
    var tr = el('tr', 'feature-row');
    tr.setAttribute('data-feature', hit[0]);
    var idc = el('td', 'num');
    idc.appendChild(link('#feature=' + hit[0], '#' + hit[0]));
    tr.appendChild(idc);
    tr.appendChild(el('td', 'num', hit[1] + ' of ' + (ix.meta.top_k || '?')));
    tr.appendChild(el('td', 'num', fmt(hit[2])));
    tr.appendChild(el('td', 'num', r === undefined ? '' : pct(ix.features.density[r])));
    tr.appendChild(el('td', 'num', r === undefined ? '' : fmt(ix.features.max[r])));
    var tops = el('td', 'tops');
    if (r !== undefined) ix.features.top[r].forEach(function (x) { tops.appendChild(tokenChip(x)); });
    tr.appendChild(tops);
    tr.addEventListener('click', function (ev) {
      if (ev.target.closest && ev.target.closest('a')) return;
      go('feature=' + hit[0]);
    });
    return tr;
  }

  // ---- start -------------------------------------------------------------------------------------------------

  function wireHeader() {
    var jump = document.getElementById('jump-form'), jumpInput = document.getElementById('jump-input');
    jump.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (jumpInput.value !== '') go('feature=' + encodeURIComponent(jumpInput.value.trim()));
    });
    var tok = document.getElementById('token-form'), tokInput = document.getElementById('token-input');
    tok.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (tokInput.value !== '') go('token=' + encodeURIComponent(tokInput.value));
    });
  }

  function start() {
    if (ix.meta.sae && ix.meta.sae.d_sae) document.getElementById('jump-input').max = String(ix.meta.sae.d_sae - 1);
    ix.features.id.forEach(function (id, r) {
      rowOf.set(id, r);
      searchText.push(ix.features.top[r].map(tokenKey).join('\u0000'));
    });
    window.addEventListener('hashchange', route);
    route();
  }

  wireHeader();
  load('index.js', function () { return ix !== null; }).then(start, function (err) {
    console.error(err.message);
    clear(app);
    var c = card('Could not load the atlas data', 'error');
    c.appendChild(el('p', null, err.message));
    app.appendChild(c);
    writeCheck('done', { route: 'error', message: err.message });
  });
})();
