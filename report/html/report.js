// permaudit report: the matrix drawn from its data (only the lines on
// screen), evidence on click, filters, sorting, print. Every value from
// the run is inserted with textContent, never as markup.
(function () {
  'use strict';
  var doc = document;
  // Marks for bench/reportload: when the script started and when the
  // matrix's first window was drawn.
  if (window.performance && performance.mark) { performance.mark('pa-script'); }

  function all(sel, root) { return Array.prototype.slice.call((root || doc).querySelectorAll(sel)); }
  function make(tag, cls, text) {
    var e = doc.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  // ---- Evidence -------------------------------------------------------
  // The evidence is in chunks of base64 of gzipped JSON
  // (report/html_evidence.go): {"v": 1, "s": [strings], "c": [[field
  // indexes in FIELDS order]]}, one script element per chunk.
  var FIELDS = ['verdict', 'symbol', 'endpoint', 'role', 'sign_in', 'request', 'status', 'answer',
    'class', 'why', 'location', 'chain', 'latency', 'content_type', 'size', 'www_authenticate',
    'expected', 'rule', 'template', 'error', 'excerpt', 'curl', 'findings', 'body_checks'];
  var NUMBERS = { status: true, www_authenticate: true };
  // The chunks follow the script in the page, so that the matrix shows
  // before the browser has read them: they are looked for once the page
  // is parsed.
  var chunks = null;

  function parsed() {
    if (doc.readyState !== 'loading') { return Promise.resolve(); }
    return new Promise(function (res) { doc.addEventListener('DOMContentLoaded', res, { once: true }); });
  }

  // loadChunk decodes, once, the evidence document that holds cell i.
  function loadChunk(i) {
    return parsed().then(function () {
      if (chunks === null) {
        chunks = all('script.pa-evidence').map(function (el) {
          return { first: parseInt(el.getAttribute('data-first'), 10), el: el, data: null };
        });
      }
      var lo = 0, hi = chunks.length - 1, chunk = null;
      while (lo <= hi) { // the last chunk whose first cell is at most i
        var mid = (lo + hi) >> 1;
        if (chunks[mid].first <= i) { chunk = chunks[mid]; lo = mid + 1; } else { hi = mid - 1; }
      }
      if (chunk === null) { throw new Error('no evidence for cell ' + i); }
      if (chunk.data === null) { chunk.data = decodeChunk(chunk); }
      return chunk.data;
    });
  }

  function decodeChunk(chunk) {
    return new Promise(function (resolve, reject) {
      if (typeof DecompressionStream === 'undefined') {
        reject(new Error('this browser cannot read the evidence (it lacks DecompressionStream): open the report in a current browser'));
        return;
      }
      var bin = atob(chunk.el.textContent.trim());
      var bytes = new Uint8Array(bin.length);
      for (var k = 0; k < bin.length; k++) { bytes[k] = bin.charCodeAt(k); }
      var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
      new Response(stream).text().then(function (json) {
        var data = JSON.parse(json);
        if (data.v !== 1) { throw new Error('evidence of an unknown version ' + data.v); }
        data.first = chunk.first;
        resolve(data);
      }).catch(reject);
    });
  }

  function cellOf(data, i) {
    var c = data.c[i - data.first];
    if (!c) { return null; }
    var S = data.s, ev = {};
    FIELDS.forEach(function (f, k) { ev[f] = NUMBERS[f] ? c[k] : S[c[k]]; });
    ev.chain = c[FIELDS.indexOf('chain')].map(function (x) { return S[x]; });
    ev.body_checks = c[FIELDS.indexOf('body_checks')].map(function (x) { return S[x]; });
    ev.findings = c[FIELDS.indexOf('findings')].map(function (f) {
      return { verdict: S[f[0]], message: S[f[1]], fingerprint: S[f[2]] };
    });
    return ev;
  }

  var panel = doc.getElementById('evidence');
  var panelBody = doc.getElementById('evidence-body');
  var selected = null; // the element whose evidence shows
  var selCell = null;  // the matrix cell whose evidence shows: {k: row, j: column}
  var selLine = null;  // the long list's row whose evidence shows: {body: its list's tbody, k: its data-k}

  function addRow(dl, key, value) {
    if (value === undefined || value === null || value === '' || value === false) { return; }
    dl.appendChild(make('dt', null, key));
    var dd = make('dd');
    if (value instanceof Node) { dd.appendChild(value); } else { dd.textContent = String(value); }
    dl.appendChild(dd);
  }

  function copyText(text, button) {
    function done(ok) { button.textContent = ok ? 'Copied' : 'Select and copy'; }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
    } else {
      done(false);
    }
  }

  function unselect() {
    if (selected) { selected.classList.remove('sel'); }
    all('#matrix-rows td.sel').forEach(function (td) { td.classList.remove('sel'); });
    selected = null;
    selCell = null;
    selLine = null;
  }

  // showEvidence shows the evidence of observation i, clicked on source
  // (a finding's row, or the matrix cell at row k, column j).
  function showEvidence(i, source, cell) {
    unselect();
    selected = source || null;
    selCell = cell || null;
    if (selected) { selected.classList.add('sel'); }
    if (selected && listOf(selected.parentNode)) {
      selLine = { body: selected.parentNode, k: selected.getAttribute('data-k') };
    }
    loadChunk(i).then(function (data) {
      var ev = cellOf(data, i);
      if (ev) { renderEvidence(ev, i); }
    }).catch(function (err) {
      panelBody.textContent = '';
      panelBody.appendChild(make('p', 'bad', String(err && err.message || err)));
      panel.hidden = false;
    });
  }

  function renderEvidence(ev, i) {
    panelBody.textContent = '';
    var title = make('p', 'ev-title v-' + ev.verdict, ev.symbol + ' ' + ev.verdict + ': ' + ev.endpoint + ' as ' + ev.role);
    panelBody.appendChild(title);
    var dl = make('dl');
    addRow(dl, 'Request', make('code', null, ev.request));
    addRow(dl, 'Role', ev.role + (ev.sign_in ? ' (signs in with ' + ev.sign_in + ')' : ''));
    addRow(dl, 'Status', ev.status ? String(ev.status) : 'no answer');
    addRow(dl, 'Answer', ev.answer);
    addRow(dl, 'Class', ev['class'] + (ev.why ? ' (' + ev.why + ')' : ''));
    addRow(dl, 'Location', ev.location);
    if (ev.chain && ev.chain.length) {
      var ol = make('ol');
      ev.chain.forEach(function (h) { ol.appendChild(make('li', null, h)); });
      addRow(dl, 'Redirect chain', ol);
    }
    addRow(dl, 'Latency', ev.latency);
    addRow(dl, 'Content-Type', ev.content_type);
    addRow(dl, 'Body', ev.size);
    if (ev.body_checks && ev.body_checks.length) {
      var ul = make('ul');
      ev.body_checks.forEach(function (b) { ul.appendChild(make('li', null, b)); });
      addRow(dl, 'Body checks', ul);
    }
    addRow(dl, 'WWW-Authenticate', ev.www_authenticate ? 'present' : '');
    addRow(dl, 'Expected', ev.expected);
    addRow(dl, 'Rule', ev.rule);
    addRow(dl, 'Template', ev.template);
    addRow(dl, 'Verdict', ev.symbol + ' ' + ev.verdict);
    addRow(dl, 'Error', ev.error);
    (ev.findings || []).forEach(function (f) {
      addRow(dl, f.verdict, f.message + ' (fingerprint ' + f.fingerprint + ')');
    });
    panelBody.appendChild(dl);
    if (ev.excerpt) {
      panelBody.appendChild(make('h3', null, 'Body excerpt (redacted)'));
      panelBody.appendChild(make('pre', 'excerpt', ev.excerpt));
    }
    panelBody.appendChild(make('h3', null, 'Replay with curl'));
    var curl = make('pre', 'curl', ev.curl);
    panelBody.appendChild(curl);
    var copy = make('button', 'copy', 'Copy');
    copy.type = 'button';
    copy.addEventListener('click', function () { copyText(ev.curl, copy); });
    panelBody.appendChild(copy);
    panel.hidden = false;
    doc.body.classList.add('ev-open');
    panel.setAttribute('data-cell', String(i));
  }

  function closeEvidence() {
    panel.hidden = true;
    doc.body.classList.remove('ev-open');
    panel.removeAttribute('data-cell');
    unselect();
  }

  // ---- Matrix ---------------------------------------------------------
  // The matrix is data (pa-matrix, report/html_rows.go): columns of
  // compact arrays, a row's values at the same position in each. Only
  // the lines on screen, and OVER lines above and below them, are in the
  // page; spacer rows stand for the others, so the scroll bar is that of
  // the whole matrix. A line is a row (k >= 0), a path prefix's header
  // (-1 - 2g) or a template's header (-2 - 2t).
  var OVER = 120;        // lines drawn beyond each edge of the window
  var MARGIN = 40;       // redraw when the window comes this close to an edge drawn
  var PRINT_MAX = 20000; // lines printed at most
  var scroller = doc.getElementById('matrix-groups');
  var rowsBody = doc.getElementById('matrix-rows');
  var M = null;
  var rowH = 24;         // the height of a line, measured once drawn
  var drawn = { first: 0, last: 0 };
  var stop = { k: -1, j: 0 }; // the matrix's one tab stop (roving tabindex)
  var printing = false;
  var roleColumn = {};

  function loadMatrix() {
    all('#matrix thead th[data-role]').forEach(function (th, j) { roleColumn[th.getAttribute('data-role')] = j; });
    var src = doc.getElementById('pa-matrix');
    var d = JSON.parse(src.textContent);
    if (d.version !== 2) { throw new Error('matrix data of an unknown version ' + d.version); }
    d.n = d.p.length;
    d.R = d.n ? d.v.length / d.n : 0;
    d.cxOf = new Map(d.cx.map(function (x) { return [x[0], x[1]]; }));
    d.shown = new Uint8Array(d.n).fill(1);
    d.gOpen = new Uint8Array(d.groups.length).fill(1);
    d.tOpen = new Uint8Array(d.templates.length).fill(1);
    d.lower = null; // "method path" of each row in lower case, on the first text filter
    d.lines = new Int32Array(d.n + d.groups.length + d.templates.length);
    d.lineOf = new Int32Array(d.n);
    d.L = 0;
    M = d;
  }

  // layout lists the lines shown: the rows the filters keep, under the
  // header of their prefix and template; a closed prefix or template
  // shows its header only (unless every is true: printing).
  function layout(every) {
    var n = M.n, tpl = M.tpl, T = M.templates, k, t, g;
    var tShown = new Int32Array(T.length);
    for (k = 0; k < n; k++) { if (M.shown[k]) { tShown[tpl[k]]++; } }
    var lines = M.lines, L = 0, pg = -1, pt = -1;
    M.lineOf.fill(-1);
    for (k = 0; k < n; k++) {
      if (!M.shown[k]) { continue; }
      t = tpl[k];
      g = T[t][1];
      if (g !== pg) { pg = g; pt = -1; lines[L++] = -1 - 2 * g; }
      if (!every && !M.gOpen[g]) { continue; }
      if (t !== pt) { pt = t; if (T[t][3]) { lines[L++] = -2 - 2 * t; } }
      if (!every && !M.tOpen[t]) { continue; }
      M.lineOf[k] = L;
      lines[L++] = k;
    }
    M.L = L;
    if (stop.k < 0 || M.lineOf[stop.k] < 0) { stop.k = rowFrom(-1, 1, 1); }
  }

  // rowFrom is the row count rows from line li in direction step (the
  // last one there is if fewer), or -1.
  function rowFrom(li, step, count) {
    var found = -1;
    for (var i = li + step; i >= 0 && i < M.L; i += step) {
      if (M.lines[i] >= 0) { found = M.lines[i]; if (--count === 0) { break; } }
    }
    return found;
  }

  // spacer is a row of height h standing for the lines not drawn, in a
  // table of cols columns (the matrix's or a long list's).
  function spacer(cols, h) {
    var tr = make('tr', 'spacer');
    tr.setAttribute('aria-hidden', 'true');
    var td = make('td');
    td.colSpan = cols;
    td.style.height = h + 'px';
    tr.appendChild(td);
    if (h === 0) { tr.hidden = true; }
    return tr;
  }

  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }

  function lineEl(v) {
    if (v >= 0) { return rowEl(v); }
    var x = -v - 1, tr, th, b;
    if (x % 2 === 0) {
      var g = x / 2, G = M.groups[g];
      tr = make('tr', 'gh');
      tr.setAttribute('data-g', String(g));
      th = make('th');
      th.colSpan = M.R + 1;
      th.scope = 'rowgroup';
      b = make('button', 'group-toggle', G[0]);
      b.type = 'button';
      b.setAttribute('aria-expanded', M.gOpen[g] ? 'true' : 'false');
      th.appendChild(b);
      th.appendChild(doc.createTextNode(' '));
      var count = make('span', 'muted', plural(G[1], 'endpoint'));
      if (G[2]) {
        count.appendChild(doc.createTextNode(', '));
        count.appendChild(make('span', 'bad', G[2] + ' with findings'));
      }
      th.appendChild(count);
    } else {
      var t = (x - 1) / 2, T = M.templates[t];
      tr = make('tr', 'tplh');
      tr.setAttribute('data-t', String(t));
      th = make('th');
      th.colSpan = M.R + 1;
      th.scope = 'rowgroup';
      b = make('button', 'tpl-toggle', T[0]);
      b.type = 'button';
      b.setAttribute('aria-expanded', M.tOpen[t] ? 'true' : 'false');
      th.appendChild(b);
      th.appendChild(doc.createTextNode(' '));
      th.appendChild(make('span', 'muted', String(T[2])));
      if (!M.tOpen[t]) { tr.classList.add('collapsed'); }
    }
    tr.appendChild(th);
    return tr;
  }

  function rowEl(k) {
    var tr = make('tr', 'row');
    tr.setAttribute('data-k', String(k));
    var th = make('th', 'ep');
    th.scope = 'row';
    th.appendChild(make('span', 'm', M.methods[M.m[k]]));
    th.appendChild(doc.createTextNode(' ' + M.p[k]));
    tr.appendChild(th);
    var R = M.R, base = k * R;
    for (var j = 0; j < R; j++) {
      var code = M.v.charAt(base + j);
      var td = make('td', 'v-' + M.codes[code], M.symbols[code] + ' ' + M.answers[M.a[base + j]]);
      if (k === stop.k && j === stop.j) { td.tabIndex = 0; }
      if (selCell && selCell.k === k && selCell.j === j) { td.classList.add('sel'); }
      tr.appendChild(td);
    }
    return tr;
  }

  // draw puts lines [first, last) in the page, between two spacers.
  function draw(first, last) {
    var active = doc.activeElement, refocus = null;
    if (active && active.parentNode && active.parentNode.parentNode === rowsBody) {
      refocus = { k: +active.parentNode.getAttribute('data-k'), j: active.cellIndex - 1 };
    }
    var frag = doc.createDocumentFragment();
    frag.appendChild(spacer(M.R + 1, first * rowH));
    for (var i = first; i < last; i++) { frag.appendChild(lineEl(M.lines[i])); }
    frag.appendChild(spacer(M.R + 1, (M.L - last) * rowH));
    rowsBody.textContent = '';
    rowsBody.appendChild(frag);
    drawn.first = first;
    drawn.last = last;
    // The tab stop's row is off the lines drawn: the first row drawn in
    // the window takes it, so that Tab still reaches the matrix.
    if (stop.k >= 0 && (M.lineOf[stop.k] < first || M.lineOf[stop.k] >= last)) {
      var k = rowFrom(Math.max(first, windowOf().first) - 1, 1, 1);
      if (k >= 0 && M.lineOf[k] < last) {
        stop.k = k;
        var td = cellEl(k, stop.j);
        if (td) { td.tabIndex = 0; }
      }
    }
    if (refocus) {
      var again = cellEl(refocus.k, refocus.j);
      if (again) { again.focus({ preventScroll: true }); }
    }
  }

  // windowOf is the range of lines on screen in the matrix's scroller
  // (its sticky header row excluded).
  function windowOf() {
    var top = scroller.scrollTop, h = scroller.clientHeight;
    return { first: Math.max(0, Math.floor(top / rowH)), last: Math.min(M.L, Math.ceil((top + h) / rowH) + 1) };
  }

  // covered is whether lines [first, last) of count, those drawn, cover
  // the window [wFirst, wLast) with MARGIN to spare (or reach an end).
  function covered(wFirst, wLast, first, last, count) {
    return wFirst >= first && wLast <= last &&
      (wFirst - first >= MARGIN || first === 0) && (last - wLast >= MARGIN || last === count);
  }

  // render draws the lines around the window, unless those drawn cover
  // it (or force).
  function render(force) {
    if (M === null || printing) { return; }
    var w = windowOf();
    if (!force && covered(w.first, w.last, drawn.first, drawn.last, M.L)) { return; }
    draw(Math.max(0, w.first - OVER), Math.min(M.L, w.last + OVER));
  }

  // lineHeight is the height of a line as drawn in body, between its two
  // spacers (all lines have one height, set by the stylesheet; the font
  // decides it exactly), or 0 when too few are drawn to tell.
  function lineHeight(body) {
    var rows = body.rows;
    if (rows.length < 3) { return 0; }
    var a = rows[1].getBoundingClientRect(), b = rows[rows.length - 2].getBoundingClientRect();
    return (b.bottom - a.top) / (rows.length - 2);
  }

  // measure reads the matrix's line height and redraws if it differs.
  function measure() {
    var h = lineHeight(rowsBody);
    if (h > 0 && Math.abs(h - rowH) > 0.01) { rowH = h; render(true); }
  }

  // onScrollFrame calls fn at the next frame after el scrolls, once per
  // frame.
  function onScrollFrame(el, fn) {
    var pending = false;
    el.addEventListener('scroll', function () {
      if (pending) { return; }
      pending = true;
      requestAnimationFrame(function () { pending = false; fn(); });
    }, { passive: true });
  }

  function cellEl(k, j) {
    var tr = rowsBody.querySelector('tr[data-k="' + k + '"]');
    return tr ? tr.cells[j + 1] || null : null;
  }

  // reveal scrolls the matrix so that line li shows, then draws.
  function reveal(li) {
    revealLine(scroller, li, rowH);
    render(false);
  }

  // revealLine scrolls sc, a scroller drawn by window under a sticky
  // header row, so that its line li (of height h) is on screen.
  function revealLine(sc, li, h) {
    var top = li * h, st = sc.scrollTop, head = sc.querySelector('thead').offsetHeight;
    if (top < st) { sc.scrollTop = top; }
    else if (top + h > st + sc.clientHeight - head) { sc.scrollTop = top + h - sc.clientHeight + head; }
  }

  // focusCellAt moves the tab stop to row k, column j, shows it and
  // focuses it.
  function focusCellAt(k, j) {
    if (M.lineOf[k] < 0) { return null; }
    reveal(M.lineOf[k]);
    var td = cellEl(k, j);
    if (!td) { return null; }
    all('#matrix-rows td[tabindex="0"]').forEach(function (x) { if (x !== td) { x.tabIndex = -1; } });
    stop.k = k;
    stop.j = j;
    td.tabIndex = 0;
    td.focus();
    return td;
  }

  // observationOf is the observation of row k's cell j, or -1.
  function observationOf(k, j) {
    var R = M.R, base = k * R, v = M.v;
    if (v.charAt(base + j) === '-') { return -1; }
    var c = M.c[k];
    if (c < 0) { return M.cxOf.get(k)[j]; }
    for (var x = 0; x < j; x++) { if (v.charAt(base + x) !== '-') { c++; } }
    return c;
  }

  // evidenceTarget finds the cell or the finding clicked, and the index
  // of its observation.
  function evidenceTarget(node) {
    if (!node || !node.closest) { return null; }
    var td = node.closest('#matrix-rows tr.row > td');
    if (td) {
      var k = +td.parentNode.getAttribute('data-k'), j = td.cellIndex - 1;
      var i = observationOf(k, j);
      return i >= 0 ? { el: td, i: i, cell: { k: k, j: j } } : null;
    }
    var el = node.closest('tr.frow[data-i]');
    if (!el) { return null; }
    var n = parseInt(el.getAttribute('data-i'), 10);
    return n >= 0 ? { el: el, i: n } : null;
  }

  // toggle opens or closes a prefix (data-g) or template (data-t) and
  // keeps the focus on its button.
  function toggle(button) {
    var tr = button.closest('tr'), g = tr.getAttribute('data-g'), t = tr.getAttribute('data-t');
    var sel = g !== null ? 'tr[data-g="' + g + '"] button' : 'tr[data-t="' + t + '"] button';
    if (g !== null) { M.gOpen[+g] ^= 1; } else { M.tOpen[+t] ^= 1; }
    layout(false);
    render(true);
    var again = rowsBody.querySelector(sel);
    if (again) { again.focus({ preventScroll: true }); }
  }

  doc.addEventListener('click', function (e) {
    if (e.target.closest && e.target.closest('[data-close]')) { closeEvidence(); return; }
    var tg = e.target.closest && e.target.closest('#matrix-rows .tpl-toggle, #matrix-rows .group-toggle');
    if (tg) { toggle(tg); return; }
    var t = evidenceTarget(e.target);
    if (t) {
      if (t.cell) { t.el = focusCellAt(t.cell.k, t.cell.j) || t.el; }
      showEvidence(t.i, t.el, t.cell);
    }
  });
  doc.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') {
      var back = selected, cell = selCell;
      closeEvidence();
      if (cell) { focusCellAt(cell.k, cell.j); } else if (back && back.tabIndex >= 0) { back.focus(); }
      return;
    }
    if (e.key === 'Enter' || (e.key === ' ' && e.target.tagName === 'TD')) {
      var t = evidenceTarget(e.target);
      if (t) { e.preventDefault(); showEvidence(t.i, t.el, t.cell); }
      return;
    }
    var td = e.target.closest && e.target.closest('#matrix-rows tr.row > td');
    if (td) { moveInMatrix(td, e); return; }
    if (e.target.classList && e.target.classList.contains('frow')) { moveInRows(e.target, e); }
  });

  // moveInMatrix moves the tab stop from td with the arrow keys, Page
  // Up, Page Down, Home and End (with Ctrl: the first or last row), over
  // the rows shown: rows filtered out or in a closed prefix or template
  // are skipped.
  function moveInMatrix(td, e) {
    var k = +td.parentNode.getAttribute('data-k'), j = td.cellIndex - 1, li = M.lineOf[k];
    var page = Math.max(1, Math.floor(scroller.clientHeight / rowH) - 2);
    var nk = k, nj = j;
    switch (e.key) {
      case 'ArrowRight': nj = Math.min(M.R - 1, j + 1); break;
      case 'ArrowLeft': nj = Math.max(0, j - 1); break;
      case 'Home': if (e.ctrlKey) { nk = rowFrom(-1, 1, 1); } nj = 0; break;
      case 'End': if (e.ctrlKey) { nk = rowFrom(M.L, -1, 1); } nj = M.R - 1; break;
      case 'ArrowDown': nk = rowFrom(li, 1, 1); break;
      case 'ArrowUp': nk = rowFrom(li, -1, 1); break;
      case 'PageDown': nk = rowFrom(li, 1, page); break;
      case 'PageUp': nk = rowFrom(li, -1, page); break;
      default: return;
    }
    e.preventDefault();
    if (nk >= 0) { focusCellAt(nk, nj); }
  }

  onScrollFrame(scroller, function () { render(false); });
  window.addEventListener('resize', function () { render(false); });
  // Focus reaching a cell by Tab makes it the tab stop.
  scroller.addEventListener('focusin', function (e) {
    var td = e.target;
    if (td.tagName === 'TD' && td.parentNode.classList.contains('row')) {
      stop.k = +td.parentNode.getAttribute('data-k');
      stop.j = td.cellIndex - 1;
    }
  });

  // listWanted is whether a finding or note row of verdict, severity and
  // role, whose lower-case text is rowText, shows under the filters (text
  // and role being the filter's, state the rest).
  function listWanted(verdict, severity, rowRole, rowText, text, role) {
    return (!state.any || state.verdicts[verdict] === true) && (!state.severity || severity === state.severity) &&
      (!role || rowRole === role) && (!text || rowText.indexOf(text) >= 0);
  }

  // byKey is a comparison of keyOf's values, ascending or not.
  function byKey(keyOf, asc) {
    return function (a, b) {
      var x = keyOf(a), y = keyOf(b);
      var d = x < y ? -1 : x > y ? 1 : 0;
      return asc ? d : -d;
    };
  }

  // ---- Long lists -------------------------------------------------------
  // Findings or notes longer than the page writes as rows (listRowsMax in
  // report/html.go) travel as data (pa-findings, pa-notes: writeListData
  // in report/html_rows.go), one array per row, and are drawn by window in
  // their own scroller, as the matrix is; filters and sorting work on the
  // arrays. Each column gives its text (as the page's rows show it, which
  // sorting and the path filter read) and draws its cell.
  function textCol(i) {
    return { key: function (x) { return x[i]; }, td: function (x) { return make('td', null, x[i]); } };
  }
  function symCol(sym, verdict) {
    return {
      key: function (x) { return x[sym] + ' ' + x[verdict]; },
      td: function (x) { var td = make('td'); td.appendChild(make('span', 'sym', x[sym])); td.appendChild(doc.createTextNode(' ' + x[verdict])); return td; }
    };
  }
  function pathCol(method, path) {
    return {
      key: function (x) { return x[method] ? x[method] + ' ' + x[path] : x[path]; },
      td: function (x) {
        var td = make('td', 'path');
        if (x[method]) { td.appendChild(make('span', 'm', x[method])); td.appendChild(doc.createTextNode(' ')); }
        td.appendChild(doc.createTextNode(x[path]));
        return td;
      }
    };
  }
  // Row layouts: writeListData's.
  var LISTS = {
    findings: { role: 7, cols: [
      { num: true, key: function (x) { return x[3]; }, td: function (x) { var td = make('td', null, x[2]); td.setAttribute('data-k', String(x[3])); return td; } },
      symCol(4, 1), pathCol(5, 6), textCol(7), textCol(8), textCol(9), textCol(10), textCol(11),
      { key: function (x) { return x[12]; }, td: function (x) { var td = make('td'); td.appendChild(make('code', 'fp', x[12])); return td; } }
    ] },
    notes: { role: 6, cols: [
      symCol(3, 1), pathCol(4, 5),
      { key: function (x) { return x[6] || 'several'; }, td: function (x) { var td = make('td'); td.appendChild(x[6] ? doc.createTextNode(x[6]) : make('span', 'muted', 'several')); return td; } },
      textCol(7)
    ] }
  };
  var bigLists = [];

  function loadList(name) {
    var src = doc.getElementById('pa-' + name);
    if (!src) { return; }
    var d = JSON.parse(src.textContent);
    if (d.version !== 1) { throw new Error(name + ' data of an unknown version ' + d.version); }
    var n = d.rows.length, L = {
      name: name, spec: LISTS[name], rows: d.rows, n: n, order: [], shown: new Uint8Array(n).fill(1),
      text: null, lines: new Int32Array(n), count: 0, rowH: 24, first: 0, last: 0, top: 0, h: 0,
      scroller: doc.getElementById(name + '-scroll'), body: doc.getElementById(name + '-rows'),
      table: doc.getElementById(name + '-table')
    };
    for (var k = 0; k < n; k++) { L.order.push(k); }
    var needs = doc.getElementById(name + '-needs-script');
    if (needs) { needs.hidden = true; }
    listLayout(L);
    L.h = L.scroller.clientHeight;
    drawList(L, true);
    var h = lineHeight(L.body);
    if (h > 0 && Math.abs(h - L.rowH) > 0.01) { L.rowH = h; drawList(L, true); }
    onScrollFrame(L.scroller, function () { L.top = L.scroller.scrollTop; drawList(L, false); });
    window.addEventListener('resize', function () { L.h = L.scroller.clientHeight; drawList(L, false); });
    bigLists.push(L);
  }

  // listOf is the long list whose rows body holds, or undefined.
  function listOf(body) {
    return bigLists.filter(function (L) { return L.body === body; })[0];
  }

  // listLayout lists the rows shown, in the list's order.
  function listLayout(L) {
    var c = 0;
    for (var x = 0; x < L.n; x++) { var k = L.order[x]; if (L.shown[k]) { L.lines[c++] = k; } }
    L.count = c;
  }

  function listRow(L, k) {
    var x = L.rows[k], tr = make('tr', 'frow v-' + x[1]);
    tr.setAttribute('data-i', String(x[0]));
    tr.setAttribute('data-k', String(k));
    tr.setAttribute('data-verdict', x[1]);
    tr.setAttribute('data-severity', x[2]);
    tr.setAttribute('data-role', x[L.spec.role]);
    if (x[0] >= 0) { tr.tabIndex = 0; }
    L.spec.cols.forEach(function (c) { tr.appendChild(c.td(x)); });
    return tr;
  }

  // fillList puts lines [first, last) of L in the page, between two
  // spacers (none when printing), keeping the focus on its row and the
  // outline on the row whose evidence shows.
  function fillList(L, first, last, print) {
    var active = doc.activeElement, again = null;
    if (active && active.parentNode === L.body) { again = active.getAttribute('data-k'); }
    var frag = doc.createDocumentFragment();
    if (!print) { frag.appendChild(spacer(L.spec.cols.length, first * L.rowH)); }
    for (var i = first; i < last; i++) { frag.appendChild(listRow(L, L.lines[i])); }
    if (!print) { frag.appendChild(spacer(L.spec.cols.length, (L.count - last) * L.rowH)); }
    L.body.textContent = '';
    L.body.appendChild(frag);
    L.first = first;
    L.last = last;
    if (again !== null) {
      var tr = L.body.querySelector('tr[data-k="' + again + '"]');
      if (tr) { tr.focus({ preventScroll: true }); }
    }
    if (selLine && selLine.body === L.body) {
      var sel = L.body.querySelector('tr[data-k="' + selLine.k + '"]');
      if (sel) { sel.classList.add('sel'); selected = sel; }
    }
  }

  // drawList draws the lines around L's window, unless those drawn cover
  // it with MARGIN to spare (or force). The window is L.top and L.h, kept
  // by the scroll and resize handlers, so that a filter does not make the
  // browser lay the page out to read them.
  function drawList(L, force) {
    if (printing) { return; }
    var top = L.top, h = L.h;
    var wf = Math.max(0, Math.floor(top / L.rowH)), wl = Math.min(L.count, Math.ceil((top + h) / L.rowH) + 1);
    if (!force && covered(wf, wl, L.first, L.last, L.count)) { return; }
    fillList(L, Math.max(0, wf - OVER), Math.min(L.count, wl + OVER), false);
  }

  // filterList decides L's rows from its arrays, as applyFilters does the
  // page's rows, and draws its window; it returns how many it shows.
  function filterList(L, text, role) {
    var cols = L.spec.cols, k, x;
    if (text && L.text === null) { // the second and third columns' text, as for the page's rows
      L.text = L.rows.map(function (x) { return (cols[1].key(x) + ' ' + cols[2].key(x)).toLowerCase(); });
    }
    for (k = 0; k < L.n; k++) {
      x = L.rows[k];
      L.shown[k] = listWanted(x[1], x[2], x[L.spec.role], text && L.text[k], text, role) ? 1 : 0;
    }
    listLayout(L);
    if (L.top !== 0) { L.scroller.scrollTop = 0; L.top = 0; }
    drawList(L, true);
    return L.count;
  }

  // sortList orders L by column col, as the page's tables sort their rows.
  function sortList(L, col, asc) {
    var c = L.spec.cols[col];
    var keys = L.rows.map(function (x) { return c.num ? c.key(x) : String(c.key(x)).toLowerCase(); });
    L.order.sort(byKey(function (k) { return keys[k]; }, asc));
    listLayout(L);
    drawList(L, true);
  }

  // moveInRows moves the focus from tr, a findings or notes row, with the
  // arrow keys, Page Up, Page Down, Home and End, over the rows shown that
  // open evidence; in a long list drawn by window, it draws the row's
  // window first.
  function moveInRows(tr, e) {
    var L = listOf(tr.parentNode);
    var rows, x, n, opens, page = 1, to;
    if (L) {
      x = L.lines.subarray(0, L.count).indexOf(+tr.getAttribute('data-k'));
      n = L.count;
      opens = function (i) { return L.rows[L.lines[i]][0] >= 0; };
    } else {
      rows = Array.prototype.filter.call(tr.parentNode.rows, function (r) { return !r.hidden && r.tabIndex >= 0; });
      x = rows.indexOf(tr);
      n = rows.length;
      opens = function () { return true; };
    }
    // from is the line steps lines that open evidence away from line i in
    // direction dir, or the last such line before the end; -1 when none.
    function from(i, dir, steps) {
      var found = -1;
      for (i += dir; i >= 0 && i < n && steps > 0; i += dir) {
        if (opens(i)) { found = i; steps--; }
      }
      return found;
    }
    if (x >= 0 && (e.key === 'PageDown' || e.key === 'PageUp')) {
      var dir = e.key === 'PageUp' ? -1 : 1;
      if (L) {
        page = Math.max(1, Math.floor(L.h / L.rowH) - 2);
      } else { // the rows within most of the window's height, however tall they wrap
        var at = tr.getBoundingClientRect().top, reach = window.innerHeight * 0.8;
        for (var i = x + 2 * dir; i >= 0 && i < n && Math.abs(rows[i].getBoundingClientRect().top - at) <= reach; i += dir) { page++; }
      }
    }
    switch (e.key) {
      case 'ArrowDown': to = from(x, 1, 1); break;
      case 'ArrowUp': to = from(x, -1, 1); break;
      case 'PageDown': to = from(x, 1, page); break;
      case 'PageUp': to = from(x, -1, page); break;
      case 'Home': to = from(-1, 1, 1); break;
      case 'End': to = from(n, -1, 1); break;
      default: return;
    }
    e.preventDefault();
    if (x < 0 || to < 0) { return; }
    if (!L) { rows[to].focus(); return; }
    revealLine(L.scroller, to, L.rowH);
    L.top = L.scroller.scrollTop;
    drawList(L, false);
    var next = L.body.querySelector('tr[data-k="' + L.lines[to] + '"]');
    if (next) { next.focus({ preventScroll: true }); }
  }

  // ---- Filters --------------------------------------------------------
  var severityOf = {
    'leak': 'critical', 'blocked': 'high', 'existence-leak': 'medium', 'error': 'medium',
    'wrong-code': 'low', 'inconclusive': 'info', 'unmapped': 'info', 'pass': ''
  };
  var state = { verdicts: {}, any: false, severity: '', role: '', text: '' };
  var filterCost = 0; // milliseconds the last applyFilters took
  var listed = null; // the findings and notes rows, with what filters read

  function verdictWanted(v) {
    if (state.any && state.verdicts[v] !== true) { return false; }
    if (state.severity && severityOf[v] !== state.severity) { return false; }
    return true;
  }

  // applyFilters decides every row from the arrays (never the DOM), then
  // lays out and draws the window once.
  function applyFilters() {
    var began = performance.now();
    var text = state.text, role = state.role, k, c;
    var byVerdict = state.any || state.severity !== '';
    var col = role && Object.prototype.hasOwnProperty.call(roleColumn, role) ? roleColumn[role] : -1;
    var shown = 0;
    if (M !== null) {
      var wanted = new Uint8Array(128); // verdict code -> shown
      Object.keys(M.codes).forEach(function (x) { wanted[x.charCodeAt(0)] = verdictWanted(M.codes[x]) ? 1 : 0; });
      if (text && M.lower === null) {
        M.lower = new Array(M.n);
        for (k = 0; k < M.n; k++) { M.lower[k] = (M.methods[M.m[k]] + ' ' + M.p[k]).toLowerCase(); }
      }
      var R = M.R, v = M.v, lower = M.lower, from = col < 0 ? 0 : col, to = col < 0 ? R : col + 1;
      for (k = 0; k < M.n; k++) {
        var show = !text || lower[k].indexOf(text) >= 0;
        if (show && byVerdict) {
          show = false;
          for (c = k * R + from; c < k * R + to; c++) { if (wanted[v.charCodeAt(c)] === 1) { show = true; break; } }
        }
        M.shown[k] = show ? 1 : 0;
        if (show) { shown++; }
      }
      layout(false);
      scroller.scrollTop = 0;
      render(true);
    }
    if (listed === null) { // the page's rows; long lists are data (bigLists)
      listed = all('table:not(.biglist) > tbody > tr.frow').map(function (tr) {
        return {
          tr: tr, verdict: tr.getAttribute('data-verdict'), severity: tr.getAttribute('data-severity'),
          role: tr.getAttribute('data-role'), text: null
        };
      });
    }
    var nListed = 0;
    listed.forEach(function (f) {
      if (text && f.text === null) { f.text = (f.tr.cells[1].textContent + ' ' + f.tr.cells[2].textContent).toLowerCase(); }
      var show = listWanted(f.verdict, f.severity, f.role, f.text, text, role);
      if (f.tr.hidden === show) { f.tr.hidden = !show; }
      if (show) { nListed++; }
    });
    bigLists.forEach(function (L) { nListed += filterList(L, text, role); });
    var active = byVerdict || role || text;
    doc.getElementById('f-status').textContent = active
      ? shown + ' of ' + (M ? M.n : 0) + ' endpoints, ' + nListed + ' findings and notes shown'
      : '';
    filterCost = performance.now() - began;
  }

  all('#filters .vf').forEach(function (b) {
    b.addEventListener('click', function () {
      var v = b.getAttribute('data-verdict');
      var on = b.getAttribute('aria-pressed') !== 'true';
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
      if (on) { state.verdicts[v] = true; } else { delete state.verdicts[v]; }
      state.any = Object.keys(state.verdicts).length > 0;
      applyFilters();
    });
  });
  var sev = doc.getElementById('f-severity');
  var roleSel = doc.getElementById('f-role');
  var textIn = doc.getElementById('f-text');
  sev.addEventListener('change', function () { state.severity = sev.value; applyFilters(); });
  roleSel.addEventListener('change', function () { state.role = roleSel.value; applyFilters(); });
  // Typing filters at the next frame while filtering is cheap, and
  // after a pause in typing (PAUSE) once it costs more than CHEAP: a
  // matrix of a few thousand rows follows every key, one of hundreds of
  // thousands does not make each key wait for it.
  var CHEAP = 50, PAUSE = 120; // milliseconds
  var typing = 0, typed = 0;
  function filterText() {
    typing = 0; typed = 0;
    state.text = textIn.value.trim().toLowerCase();
    applyFilters();
  }
  textIn.addEventListener('input', function () {
    clearTimeout(typing);
    if (typed) { cancelAnimationFrame(typed); }
    if (filterCost < CHEAP) { typed = requestAnimationFrame(filterText); } else { typing = setTimeout(filterText, PAUSE); }
  });
  doc.getElementById('filters').addEventListener('submit', function (e) { e.preventDefault(); });
  doc.getElementById('f-clear').addEventListener('click', function () {
    state = { verdicts: {}, any: false, severity: '', role: '', text: '' };
    all('#filters .vf').forEach(function (b) { b.setAttribute('aria-pressed', 'false'); });
    sev.value = ''; roleSel.value = ''; textIn.value = '';
    applyFilters();
  });

  // ---- Sorting --------------------------------------------------------
  all('table.sortable').forEach(function (table) {
    var heads = all('thead th[data-sort]', table);
    heads.forEach(function (th, col) {
      th.addEventListener('click', function () {
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var big = bigLists.filter(function (L) { return L.table === table; })[0];
        if (big) { sortList(big, col, asc); return; }
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var numeric = th.getAttribute('data-sort') === 'num';
        function key(tr) {
          var td = tr.cells[col];
          return numeric ? parseFloat(td.getAttribute('data-k') || td.textContent) : td.textContent.toLowerCase();
        }
        rows.sort(byKey(key, asc));
        rows.forEach(function (tr) { body.appendChild(tr); });
      });
    });
  });

  // ---- Print: every row the filters keep, every prefix and template open,
  // then as it was ------------------------------------------------------
  function beforePrint() {
    if (printing) { return; }
    bigLists.forEach(function (L) {
      var last = Math.min(L.count, PRINT_MAX);
      fillList(L, 0, last, true);
      if (L.count > last) {
        var tr = make('tr', 'more'), td = make('td', null, (L.count - last) + ' more ' + L.name + ' are not printed: filter them to print the rows you need.');
        td.colSpan = L.spec.cols.length;
        tr.appendChild(td);
        L.body.appendChild(tr);
      }
    });
    if (M === null) { printing = true; return; }
    layout(true);
    printing = true;
    var last = Math.min(M.L, PRINT_MAX);
    draw(0, last);
    if (M.L > last) {
      var tr = make('tr', 'more'), td = make('td', null, (M.L - last) + ' more lines are not printed: filter the matrix to print the rows you need.');
      td.colSpan = M.R + 1;
      tr.appendChild(td);
      rowsBody.appendChild(tr);
    }
  }
  function afterPrint() {
    if (!printing) { return; }
    printing = false;
    bigLists.forEach(function (L) { drawList(L, true); });
    if (M === null) { return; }
    layout(false);
    render(true);
  }
  window.addEventListener('beforeprint', beforePrint);
  window.addEventListener('afterprint', afterPrint);

  // ---- Start: draw the first window -------------------------------------
  var needs = doc.getElementById('matrix-needs-script');
  if (needs) { needs.hidden = true; }
  try {
    loadMatrix();
    layout(false);
    render(true);
    measure();
    if (window.performance && performance.mark) { performance.mark('pa-matrix-drawn'); }
  } catch (err) {
    rowsBody.textContent = '';
    var tr = make('tr'), td = make('td', 'bad', 'The matrix could not be shown: ' + String(err && err.message || err));
    tr.appendChild(td);
    rowsBody.appendChild(tr);
  }
  ['findings', 'notes'].forEach(function (name) {
    try {
      loadList(name);
    } catch (err) {
      var body = doc.getElementById(name + '-rows');
      if (!body) { return; }
      var tr = make('tr'), td = make('td', 'bad', 'The ' + name + ' could not be shown: ' + String(err && err.message || err));
      td.colSpan = 9;
      tr.appendChild(td);
      body.textContent = '';
      body.appendChild(tr);
    }
  });
}());
