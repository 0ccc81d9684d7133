// permaudit report: evidence on click, filters, sorting, print.
// Every value from the run is inserted with textContent, never as markup.
(function () {
  'use strict';
  var doc = document;

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
  var chunks = all('script.pa-evidence').map(function (el) {
    return { first: parseInt(el.getAttribute('data-first'), 10), el: el, data: null };
  });

  // loadChunk decodes, once, the evidence document that holds cell i.
  function loadChunk(i) {
    var chunk = null;
    chunks.forEach(function (c) { if (c.first <= i) { chunk = c; } });
    if (chunk === null) { return Promise.reject(new Error('no evidence for cell ' + i)); }
    if (chunk.data !== null) { return chunk.data; }
    chunk.data = new Promise(function (resolve, reject) {
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
    return chunk.data;
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
  var selected = null;

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

  function showEvidence(i, source) {
    if (selected) { selected.classList.remove('sel'); }
    selected = source || null;
    if (selected) { selected.classList.add('sel'); }
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
    if (selected) { selected.classList.remove('sel'); selected = null; }
  }

  // evidenceTarget finds the cell or the finding clicked, and the index
  // of its observation.
  function evidenceTarget(node) {
    if (!node || !node.closest) { return null; }
    var td = node.closest('#matrix-groups tr.row > td');
    if (td) {
      var c = cellIndexOf(td);
      return c >= 0 ? { el: td, i: c } : null;
    }
    var el = node.closest('tr.frow[data-i]');
    if (!el) { return null; }
    var i = parseInt(el.getAttribute('data-i'), 10);
    return i >= 0 ? { el: el, i: i } : null;
  }

  // cellIndexOf maps a matrix cell to its observation (pa-matrix "cells").
  function cellIndexOf(td) {
    if (matrix === null) { indexMatrix(); }
    var k = matrix.rowOf.get(td.parentNode);
    var j = td.cellIndex - 1;
    if (k === undefined || j < 0) { return -1; }
    var codes = matrix.rows[k].codes, c = matrix.cells[k];
    if (codes.charAt(j) === '-') { return -1; }
    if (typeof c !== 'number') { return c[j]; }
    for (var x = 0; x < j; x++) { if (codes.charAt(x) !== '-') { c++; } }
    return c;
  }

  doc.addEventListener('click', function (e) {
    if (e.target.closest && e.target.closest('[data-close]')) { closeEvidence(); return; }
    var toggle = e.target.closest && e.target.closest('.tpl-toggle');
    if (toggle) {
      var body = toggle.closest('tbody');
      var collapsed = body.classList.toggle('collapsed');
      toggle.setAttribute('aria-expanded', collapsed ? 'false' : 'true');
      return;
    }
    var t = evidenceTarget(e.target);
    if (t) {
      if (t.el.tagName === 'TD') {
        var stop = doc.querySelector('#matrix-groups td[tabindex="0"]');
        if (stop !== t.el) { focusCell(stop, t.el); }
      }
      showEvidence(t.i, t.el);
    }
  });
  doc.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') {
      var back = selected;
      closeEvidence();
      if (back && back.tabIndex >= 0) { back.focus(); }
      return;
    }
    if (e.key === 'Enter' || (e.key === ' ' && e.target.tagName === 'TD')) {
      var t = evidenceTarget(e.target);
      if (t) { e.preventDefault(); showEvidence(t.i, t.el); }
      return;
    }
    var td = e.target.closest && e.target.closest('#matrix-groups tr.row > td');
    if (td) { moveInMatrix(td, e); }
  });

  // moveInMatrix moves the matrix's one tab stop (roving tabindex) from
  // td with the arrow keys, Home and End, over the rows shown in every
  // group.
  function moveInMatrix(td, e) {
    var tr = td.parentNode, next = null;
    if (e.key === 'ArrowRight') { next = td.nextElementSibling; }
    else if (e.key === 'ArrowLeft') { next = td.previousElementSibling; }
    else if (e.key === 'Home') { next = tr.cells[1]; }
    else if (e.key === 'End') { next = tr.cells[tr.cells.length - 1]; }
    else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      // The next row shown, across groups: rows filtered out, in a
      // collapsed template or in a closed group are skipped.
      var rows = doc.querySelectorAll('#matrix-groups tr.row');
      var step = e.key === 'ArrowDown' ? 1 : -1;
      for (var k = Array.prototype.indexOf.call(rows, tr) + step; k >= 0 && k < rows.length; k += step) {
        if (rows[k].offsetParent !== null) { next = rows[k].cells[td.cellIndex]; break; }
      }
    } else { return; }
    e.preventDefault();
    if (next && next.tagName === 'TD') { focusCell(td, next); }
  }

  function focusCell(from, to) {
    if (from) { from.tabIndex = -1; }
    to.tabIndex = 0;
    to.focus();
  }

  // ---- Filters --------------------------------------------------------
  var severityOf = {
    'leak': 'critical', 'blocked': 'high', 'existence-leak': 'medium', 'error': 'medium',
    'wrong-code': 'low', 'inconclusive': 'info', 'unmapped': 'info', 'pass': ''
  };
  var state = { verdicts: {}, any: false, severity: '', role: '', text: '' };
  var matrix = null; // built on the first filter: rows, tbodies, groups (indexMatrix)
  var listed = null; // the findings and notes rows, with what filters read
  var roleColumn = {};

  // indexMatrix reads the filter index the report carries (pa-matrix:
  // a verdict code per cell, the template group of each row and the
  // prefix group of each template), so that filtering never reads the
  // cells themselves.
  function indexMatrix() {
    var heads = all('#matrix-groups .group:first-child thead th[data-role]');
    heads.forEach(function (th, j) { roleColumn[th.getAttribute('data-role')] = j; });
    var src = doc.getElementById('pa-matrix');
    var idx = src ? JSON.parse(src.textContent) : { codes: {}, rows: [], tbody: [], group: [], cells: [] };
    var trs = doc.querySelectorAll('#matrix-groups tr.row');
    var tbs = doc.querySelectorAll('#matrix-groups tbody.tpl');
    var gs = doc.querySelectorAll('#matrix-groups details.group');
    matrix = { rows: [], tbodies: [], groups: [], codes: idx.codes, cells: idx.cells || [], rowOf: new Map() };
    for (var g = 0; g < gs.length; g++) { matrix.groups.push({ el: gs[g], shown: 1 }); }
    for (var t = 0; t < tbs.length; t++) { matrix.tbodies.push({ el: tbs[t], group: idx.group[t], shown: 1 }); }
    for (var k = 0; k < trs.length; k++) {
      matrix.rows.push({ tr: trs[k], tbody: idx.tbody[k], codes: idx.rows[k] || '', text: null, hidden: false });
      matrix.rowOf.set(trs[k], k);
    }
  }

  function verdictWanted(v) {
    if (state.any && state.verdicts[v] !== true) { return false; }
    if (state.severity && severityOf[v] !== state.severity) { return false; }
    return true;
  }

  function applyFilters() {
    if (matrix === null) { indexMatrix(); }
    var text = state.text, role = state.role;
    var byVerdict = state.any || state.severity !== '';
    var col = role && Object.prototype.hasOwnProperty.call(roleColumn, role) ? roleColumn[role] : -1;
    var shown = 0, k;
    var tbShown = new Array(matrix.tbodies.length).fill(0);
    var gShown = new Array(matrix.groups.length).fill(0);
    // Decide everything first, then write the DOM once, so that the
    // browser lays out once.
    var wanted = {}; // verdict code -> shown
    Object.keys(matrix.codes).forEach(function (c) { wanted[c] = verdictWanted(matrix.codes[c]); });
    matrix.rows.forEach(function (r) {
      if (text && r.text === null) { r.text = r.tr.cells[0].textContent.toLowerCase(); }
      var show = !text || r.text.indexOf(text) >= 0;
      if (show && byVerdict) {
        show = false;
        var codes = r.codes;
        for (var c = 0; c < codes.length; c++) {
          if ((col < 0 || c === col) && wanted[codes.charAt(c)] === true) { show = true; break; }
        }
      }
      r.next = !show;
      if (show) { shown++; tbShown[r.tbody]++; }
    });
    matrix.tbodies.forEach(function (tb, i) { if (tbShown[i]) { gShown[tb.group]++; } });
    // A row in a hidden template group is not written: the group hides
    // it. Its state is written when its group shows again.
    matrix.rows.forEach(function (r) {
      if (tbShown[r.tbody] > 0 && r.hidden !== r.next) { r.tr.hidden = r.next; r.hidden = r.next; }
    });
    for (k = 0; k < matrix.tbodies.length; k++) {
      var tb = matrix.tbodies[k], tbHide = tbShown[k] === 0;
      if (tb.shown !== (tbHide ? 0 : 1)) { tb.el.hidden = tbHide; tb.shown = tbHide ? 0 : 1; }
    }
    for (k = 0; k < matrix.groups.length; k++) {
      var g = matrix.groups[k], gHide = gShown[k] === 0;
      if (g.shown !== (gHide ? 0 : 1)) { g.el.hidden = gHide; g.shown = gHide ? 0 : 1; }
    }
    // The matrix's one tab stop moves to the first row shown when its
    // row is filtered out, so that Tab still reaches the matrix.
    var stop = doc.querySelector('#matrix-groups td[tabindex="0"]');
    var at = stop ? matrix.rowOf.get(stop.parentNode) : undefined;
    if (at !== undefined && matrix.rows[at].next) {
      for (k = 0; k < matrix.rows.length; k++) {
        if (!matrix.rows[k].next) { stop.tabIndex = -1; matrix.rows[k].tr.cells[stop.cellIndex].tabIndex = 0; break; }
      }
    }
    if (listed === null) {
      listed = all('tr.frow').map(function (tr) {
        return {
          tr: tr, verdict: tr.getAttribute('data-verdict'), severity: tr.getAttribute('data-severity'),
          role: tr.getAttribute('data-role'), text: null
        };
      });
    }
    var nListed = 0;
    listed.forEach(function (f) {
      if (text && f.text === null) { f.text = (f.tr.cells[1].textContent + ' ' + f.tr.cells[2].textContent).toLowerCase(); }
      var show = (!state.any || state.verdicts[f.verdict] === true) &&
        (!state.severity || f.severity === state.severity) &&
        (!role || f.role === role) &&
        (!text || f.text.indexOf(text) >= 0);
      if (f.tr.hidden === show) { f.tr.hidden = !show; }
      if (show) { nListed++; }
    });
    var active = byVerdict || role || text;
    doc.getElementById('f-status').textContent = active
      ? shown + ' of ' + matrix.rows.length + ' endpoints, ' + nListed + ' findings and notes shown'
      : '';
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
  var typing = 0;
  textIn.addEventListener('input', function () {
    clearTimeout(typing);
    typing = setTimeout(function () { state.text = textIn.value.trim().toLowerCase(); applyFilters(); }, 120);
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
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var numeric = th.getAttribute('data-sort') === 'num';
        function key(tr) {
          var td = tr.cells[col];
          return numeric ? parseFloat(td.getAttribute('data-k') || td.textContent) : td.textContent.toLowerCase();
        }
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          var d = x < y ? -1 : x > y ? 1 : 0;
          return asc ? d : -d;
        });
        rows.forEach(function (tr) { body.appendChild(tr); });
      });
    });
  });

  // ---- Print: every group open, then as it was -------------------------
  var closed = [];
  window.addEventListener('beforeprint', function () {
    closed = all('details:not([open])');
    closed.forEach(function (d) { d.open = true; });
  });
  window.addEventListener('afterprint', function () {
    closed.forEach(function (d) { d.open = false; });
    closed = [];
  });
}());
