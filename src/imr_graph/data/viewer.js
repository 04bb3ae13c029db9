/* imr-graph offline graph viewer (part of imr-graph, MIT licence).
 * Reads the JSON of the page's "graph-data" script element (imr_graph/views/viewer.py) and draws it
 * with Cytoscape.js and the fcose layout, both inlined in the page before this script.
 * Two views: "detail" (every node; provenance behind a toggle) and "overview" (items
 * aggregated into concepts and outcomes, counts as weighted edges). Filters act on the
 * disputed items (outcome, service kind, guideline family, year, system). */
(function () {
  'use strict';
  const DATA = JSON.parse(document.getElementById('graph-data').textContent);
  const $ = (id) => document.getElementById(id);
  const OUT = DATA.outcomeColours;
  const TYPES = {};
  DATA.types.forEach((t) => { TYPES[t.name] = t; });
  const FACETS = ['outcome', 'kind', 'family', 'year', 'system'];
  const FACET_NAMES = { outcome: 'outcome', kind: 'service kind', family: 'guideline family', year: 'year', system: 'system' };
  const ROW = { node: 0, kase: 1, outcome: 2, kind: 3, family: 4, year: 5, system: 6, concepts: 7 };
  const state = { provenance: false, hidden: new Set(), filters: {}, view: DATA.mode, query: '' };
  FACETS.forEach((f) => { state.filters[f] = -1; });

  const nodes = DATA.nodes;
  const N = nodes.length;
  const outAdj = nodes.map(() => []);
  const inAdj = nodes.map(() => []);
  DATA.edges.forEach((e, i) => { outAdj[e.s].push(i); inAdj[e.t].push(i); });
  const itemOrCase = new Uint8Array(N);
  DATA.items.forEach((r) => { if (r[ROW.node] >= 0) itemOrCase[r[ROW.node]] = 1; if (r[ROW.kase] >= 0) itemOrCase[r[ROW.kase]] = 1; });
  nodes.forEach((n, i) => { if (n.case) itemOrCase[i] = 1; });

  function esc(s) { return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c])); }
  function colourOf(type) { return (TYPES[type] || { colour: '#999' }).colour; }
  function typeLabel(type) { return (TYPES[type] || { label: type }).label; }
  function display(label, code) {
    // a code like M54.5 or F01-F09 leads the label; a slug-like notation (imaging-mri) does not
    const shown = code && !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(code) && label.indexOf(code) < 0;
    const text = shown ? code + ' ' + label : label;
    return text.length > 48 ? text.slice(0, 47) + '\u2026' : text;
  }
  function filtering() { return FACETS.some((f) => state.filters[f] >= 0); }
  function itemPasses(r) {
    const f = state.filters;
    if (f.outcome >= 0 && r[ROW.outcome] !== f.outcome) return false;
    if (f.kind >= 0 && r[ROW.kind].indexOf(f.kind) < 0) return false;
    if (f.family >= 0 && r[ROW.family].indexOf(f.family) < 0) return false;
    if (f.year >= 0 && r[ROW.year] !== f.year) return false;
    if (f.system >= 0 && r[ROW.system] !== f.system) return false;
    return true;
  }

  // ------------------------------------------------------------------ styles
  const style = [
    { selector: 'node', style: {
      'background-color': 'data(colour)', 'label': 'data(display)', 'font-size': 'data(font)',
      'width': 'data(size)', 'height': 'data(size)', 'color': '#222',
      'text-valign': 'bottom', 'text-halign': 'center', 'text-margin-y': 2,
      'text-wrap': 'wrap', 'text-max-width': 150, 'min-zoomed-font-size': 6,
      'text-outline-color': '#fff', 'text-outline-width': 2, 'border-width': 1, 'border-color': '#fff' } },
    { selector: 'node[kind = "outcome"]', style: { 'shape': 'round-rectangle', 'font-weight': 'bold' } },
    { selector: 'node[kind = "case"]', style: { 'shape': 'diamond' } },
    { selector: 'node[kind = "item"]', style: { 'shape': 'round-triangle' } },
    { selector: 'edge', style: {
      'width': 'data(width)', 'line-color': 'data(colour)', 'curve-style': 'bezier',
      'target-arrow-shape': 'triangle', 'target-arrow-color': 'data(colour)', 'arrow-scale': 0.6,
      'opacity': 0.75, 'label': '', 'font-size': 8 } },
    { selector: 'edge[?outcome]', style: { 'opacity': 0.95 } },
    { selector: '.hidden', style: { 'display': 'none' } },
    { selector: '.faded', style: { 'opacity': 0.08, 'text-opacity': 0 } },
    { selector: 'node.focus', style: { 'border-width': 4, 'border-color': '#000' } },
    { selector: 'edge.near', style: { 'label': 'data(label)', 'text-rotation': 'autorotate', 'text-outline-color': '#fff', 'text-outline-width': 2 } },
    { selector: 'node.match', style: { 'border-width': 4, 'border-color': '#111', 'font-weight': 'bold' } },
  ];
  const cy = cytoscape({ container: $('cy'), style: style, wheelSensitivity: 0.3, minZoom: 0.02, maxZoom: 6 });

  // ------------------------------------------------------------------ detail view
  function detailElements() {
    const degree = nodes.map((_, i) => outAdj[i].length + inAdj[i].length);
    const els = nodes.map((n, i) => ({ group: 'nodes', data: {
      id: 'n' + i, i: i, display: display(n.label, n.code), colour: n.hub && n.outcome ? OUT[n.outcome] : colourOf(n.type), type: n.type,
      kind: n.item !== undefined ? 'item' : n.case ? 'case' : (n.outcome && n.hub) ? 'outcome' : 'node',
      size: Math.min(60, 14 + 4 * Math.sqrt(degree[i])), font: n.case || n.item !== undefined || (n.hub && n.outcome) ? 12 : 10 } }));
    DATA.edges.forEach((e, i) => els.push({ group: 'edges', data: {
      id: 'e' + i, source: 'n' + e.s, target: 'n' + e.t, label: e.label, outcome: e.outcome || '',
      colour: e.outcome ? OUT[e.outcome] : '#bbb', width: e.outcome ? 2.5 : 1 } }));
    return els;
  }

  // What the detail view shows: with the provenance toggle, everything (less hidden types);
  // else the domain nodes reachable from the items (and cases) that pass the filters, so
  // vocabulary no case uses stays out; a graph without items or cases shows its domain.
  function detailVisible() {
    const layerOk = (i) => (state.provenance || nodes[i].layer === 'domain') && !state.hidden.has(nodes[i].type);
    const vis = new Uint8Array(N);
    const anchored = itemOrCase.some((x) => x);
    if (state.provenance && !filtering() || !anchored) { for (let i = 0; i < N; i++) vis[i] = layerOk(i) ? 1 : 0; return vis; }
    const reach = new Uint8Array(N);
    const queue = [];
    const f = state.filters;
    DATA.items.forEach((r) => {
      if (!itemPasses(r)) return;
      [r[ROW.node], r[ROW.kase]].forEach((i) => { if (i >= 0 && !reach[i]) { reach[i] = 1; queue.push(i); } });
    });
    if (f.outcome < 0 && f.kind < 0 && f.family < 0) {  // cases without items
      nodes.forEach((n, i) => {
        if (n.case && !reach[i] && !DATA.items.some((r) => r[ROW.kase] === i) &&
            (f.year < 0 || n.case[0] === f.year) && (f.system < 0 || n.case[1] === f.system)) { reach[i] = 1; queue.push(i); }
      });
    }
    while (queue.length) {
      const i = queue.pop();
      const next = outAdj[i].map((e) => DATA.edges[e].t);
      if (!nodes[i].hub) inAdj[i].forEach((e) => next.push(DATA.edges[e].s));
      next.forEach((j) => { if (!reach[j] && !itemOrCase[j]) { reach[j] = 1; queue.push(j); } });
    }
    for (let i = 0; i < N; i++) vis[i] = reach[i] && layerOk(i) ? 1 : 0;
    return vis;
  }

  // ------------------------------------------------------------------ overview
  let overview = null;  // {concepts: Map id -> {count, by outcome}, pairs}
  function overviewElements() {
    const rows = DATA.items.filter(itemPasses);
    const count = new Map();
    const byOutcome = new Map();
    rows.forEach((r) => r[ROW.concepts].forEach((c) => {
      count.set(c, (count.get(c) || 0) + 1);
      if (!byOutcome.has(c)) byOutcome.set(c, {});
      const o = byOutcome.get(c); o[r[ROW.outcome]] = (o[r[ROW.outcome]] || 0) + 1;
    }));
    const byType = new Map();
    count.forEach((n, c) => {
      const type = DATA.concepts[c][1];
      if (state.hidden.has(type) || (!state.provenance && TYPES[type] && TYPES[type].layer !== 'domain')) return;
      if (!byType.has(type)) byType.set(type, []);
      byType.get(type).push(c);
    });
    const perType = Math.max(5, Math.floor(90 / Math.max(1, byType.size)));
    const kept = new Set();
    byType.forEach((list) => list.sort((a, b) => count.get(b) - count.get(a)).slice(0, perType).forEach((c) => kept.add(c)));
    const maxCount = Math.max(1, ...[...kept].map((c) => count.get(c)));
    const els = [];
    const outcomeTotals = {};
    rows.forEach((r) => { outcomeTotals[r[ROW.outcome]] = (outcomeTotals[r[ROW.outcome]] || 0) + 1; });
    Object.keys(outcomeTotals).forEach((o) => {
      const name = DATA.facets.outcome[o];
      els.push({ group: 'nodes', data: { id: 'o' + o, display: name + ' (' + outcomeTotals[o] + ')', colour: OUT[name] || '#777',
        kind: 'outcome', size: 60, font: 16, type: 'Outcome', outcomeName: name, count: outcomeTotals[o] } });
    });
    kept.forEach((c) => {
      const [label, type, code] = DATA.concepts[c];
      els.push({ group: 'nodes', data: { id: 'c' + c, c: c, display: display(label, code) + ' (' + count.get(c) + ')', colour: colourOf(type),
        kind: 'concept', type: type, size: 12 + 40 * Math.sqrt(count.get(c) / maxCount), font: 13, count: count.get(c) } });
      const o = byOutcome.get(c);
      Object.keys(o).forEach((k) => {
        const name = DATA.facets.outcome[k];
        els.push({ group: 'edges', data: { id: 'w' + c + '-' + k, source: 'c' + c, target: 'o' + k, label: o[k] + ' ' + name,
          outcome: name, weight: o[k], colour: OUT[name] || '#999', width: 1 + 7 * Math.sqrt(o[k] / maxCount) } });
      });
    });
    const pairs = new Map();
    rows.forEach((r) => {
      const cs = r[ROW.concepts].filter((c) => kept.has(c));
      for (let a = 0; a < cs.length; a++) for (let b = a + 1; b < cs.length; b++) {
        if (DATA.concepts[cs[a]][1] === DATA.concepts[cs[b]][1]) continue;
        const key = cs[a] + ',' + cs[b];
        pairs.set(key, (pairs.get(key) || 0) + 1);
      }
    });
    const top = [...pairs.entries()].sort((x, y) => y[1] - x[1]).slice(0, 80);
    const maxPair = Math.max(1, ...top.map((p) => p[1]));
    top.forEach(([key, w]) => {
      const [a, b] = key.split(',');
      els.push({ group: 'edges', data: { id: 'p' + key, source: 'c' + a, target: 'c' + b, label: w + ' items', weight: w,
        outcome: '', colour: '#9aa', width: 0.5 + 5 * Math.sqrt(w / maxPair) } });
    });
    overview = { count: count, byOutcome: byOutcome, rows: rows.length };
    return els;
  }

  // ------------------------------------------------------------------ drawing
  function layout() {
    document.body.setAttribute('data-ready', 'false');
    const shown = cy.elements().not('.hidden');
    const big = shown.nodes().length > 1500;
    // In the overview the outcomes are pinned apart, so a concept's place shows its mix.
    const pins = state.view !== 'overview' ? [] : shown.nodes('[kind = "outcome"]').map((n, k, all) => ({
      nodeId: n.id(), position: { x: all.length < 2 ? 0 : -330 + 660 * k / (all.length - 1), y: 0 } }));
    const l = shown.layout({
      name: 'fcose', fixedNodeConstraint: pins.length ? pins : undefined, quality: big ? 'draft' : 'default', randomize: true, animate: false,
      nodeDimensionsIncludeLabels: !big, packComponents: true, nodeSeparation: 60,
      idealEdgeLength: (e) => (e.data('outcome') && e.data('weight') ? 200 : e.data('weight') ? 120 : 70),
      edgeElasticity: (e) => (e.data('weight') ? 0.1 : 0.45),
      nodeRepulsion: () => (big ? 4500 : state.view === 'overview' ? 30000 : 9000), numIter: big ? 1500 : 2500,
    });
    l.one('layoutstop', () => { cy.fit(cy.elements().not('.hidden'), 30); document.body.setAttribute('data-ready', 'true'); });
    l.run();
  }

  function rebuild() {
    cy.elements().remove();
    clearPanel();
    if (state.view === 'overview') {
      cy.add(overviewElements());
    } else {
      cy.add(detailElements());
      const vis = detailVisible();
      cy.batch(() => cy.nodes().forEach((n) => { if (!vis[n.data('i')]) n.addClass('hidden'); }));
    }
    cy.edges().forEach((e) => { if (e.source().hasClass('hidden') || e.target().hasClass('hidden')) e.addClass('hidden'); });
    counts();
    legend();
    applySearch();
    layout();
  }

  function refilter() {
    if (state.view === 'overview') { rebuild(); return; }
    const vis = detailVisible();
    cy.batch(() => {
      cy.nodes().forEach((n) => { n.toggleClass('hidden', !vis[n.data('i')]); });
      cy.edges().forEach((e) => { e.toggleClass('hidden', e.source().hasClass('hidden') || e.target().hasClass('hidden')); });
    });
    clearFocus();
    counts();
    legend();
    applySearch();
    layout();
  }

  function counts() {
    const n = cy.nodes().not('.hidden').length;
    const m = cy.edges().not('.hidden').length;
    let text = n + ' nodes \u00b7 ' + m + ' edges';
    if (state.view === 'overview') text += ' \u00b7 ' + overview.rows + ' of ' + DATA.items.length + ' items';
    else if (n < N) text += ' (of ' + N + ')';
    $('counts').textContent = text;
    $('overview').textContent = state.view === 'overview' ? 'Detail' : 'Overview';
    $('overview').disabled = DATA.mode === 'overview';
  }

  // ------------------------------------------------------------------ legend and filters
  function legend() {
    const ul = $('legend');
    ul.innerHTML = '';
    const present = new Map();
    cy.nodes().forEach((n) => {
      const t = n.data('type');
      if (n.hasClass('hidden') && !state.hidden.has(t)) return;
      present.set(t, (present.get(t) || 0) + (n.hasClass('hidden') ? 0 : 1));
    });
    state.hidden.forEach((t) => { if (!present.has(t)) present.set(t, 0); });
    [...present.keys()].sort((a, b) => typeLabel(a).localeCompare(typeLabel(b))).forEach((t) => {
      const li = document.createElement('li');
      li.dataset.type = t;
      li.className = state.hidden.has(t) ? 'off' : '';
      const outs = Object.values(OUT);
      const swatch = t === 'Outcome' && outs.length ? 'linear-gradient(90deg,' + outs.map((c, k) => c + ' ' + (100 * k / outs.length) + '% ' + (100 * (k + 1) / outs.length) + '%').join(',') + ')' : colourOf(t);
      li.innerHTML = '<span class="swatch" style="background:' + esc(swatch) + '"></span>' + esc(typeLabel(t)) + ' <span class="n">' + present.get(t) + '</span>';
      li.title = 'click to hide or show ' + typeLabel(t);
      li.addEventListener('click', () => { if (state.hidden.has(t)) state.hidden.delete(t); else state.hidden.add(t); state.view === 'overview' ? rebuild() : refilter(); });
      ul.appendChild(li);
    });
    Object.keys(OUT).forEach((o) => {
      const li = document.createElement('li');
      li.className = 'edge-key';
      li.innerHTML = '<span class="swatch line" style="background:' + esc(OUT[o]) + '"></span>' + esc(o) + ' (item edges)';
      ul.appendChild(li);
    });
  }

  function buildFilters() {
    const nav = $('filters');
    FACETS.forEach((f) => {
      const values = DATA.facets[f] || [];
      if (!values.length) return;
      const label = document.createElement('label');
      label.textContent = FACET_NAMES[f] + ' ';
      const sel = document.createElement('select');
      sel.id = 'filter-' + f;
      sel.innerHTML = '<option value="-1">all</option>' + values.map((v, i) => [v, i])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))).map(([v, i]) => '<option value="' + i + '">' + esc(v) + '</option>').join('');
      sel.addEventListener('change', () => { state.filters[f] = +sel.value; refilter(); });
      label.appendChild(sel);
      nav.appendChild(label);
    });
    const span = document.createElement('span');
    span.className = 'hint';
    span.textContent = DATA.items.length + ' disputed items in the graph';
    nav.appendChild(span);
  }

  // ------------------------------------------------------------------ search
  function applySearch() {
    const q = state.query.trim().toLowerCase();
    cy.nodes().removeClass('match');
    if (!q) { $('match-count').textContent = ''; return; }
    const hits = cy.nodes().not('.hidden').filter((n) => matches(n, q));
    hits.addClass('match');
    $('match-count').textContent = hits.length + ' matches';
  }
  function matches(n, q) {
    if (n.data('display').toLowerCase().indexOf(q) >= 0) return true;
    if (state.view === 'overview') {
      const c = n.data('c');
      return c !== undefined && DATA.concepts[c].join(' ').toLowerCase().indexOf(q) >= 0;
    }
    const d = nodes[n.data('i')];
    return (d.label + ' ' + d.id + ' ' + d.code).toLowerCase().indexOf(q) >= 0;
  }

  // ------------------------------------------------------------------ focus and panel
  function clearFocus() { cy.elements().removeClass('faded focus near'); }
  function clearPanel() { $('panel').innerHTML = '<p class="hint">Click a node to see it and its neighbours; click the background to clear.</p>'; }
  function focus(node) {
    clearFocus();
    const hood = node.closedNeighborhood().not('.hidden');
    cy.elements().not(hood).addClass('faded');
    node.addClass('focus');
    hood.edges().addClass('near');
    (state.view === 'overview' ? overviewPanel : detailPanel)(node);
  }
  function badge(text, colour) { return '<span class="badge" style="background:' + esc(colour) + '">' + esc(text) + '</span>'; }
  function row(k, v) { return '<tr><th>' + esc(k) + '</th><td>' + esc(v) + '</td></tr>'; }

  /** The decision as the letter words it: the item's quoted text up to where its rationale
   * begins (and without the label that introduces the rationale). */
  function decisionText(a) {
    const flat = (t) => String(t || '').replace(/\s+/g, ' ').trim();
    let text = flat(a.textSpan || a.decision);
    const head = flat(a.rationale).slice(0, 40);
    const at = head ? text.indexOf(head) : -1;
    if (at > 0) text = text.slice(0, at).replace(/\s*[A-Za-z][A-Za-z ]{0,30}:\s*$/, '').trim();
    return text;
  }

  function detailPanel(node) {
    const i = node.data('i');
    const d = nodes[i];
    let h = '<h2>' + esc(d.label) + '</h2><p>' + badge(typeLabel(d.type), colourOf(d.type));
    if (d.code) h += ' <code class="code">' + esc(d.code) + '</code>';
    if (d.outcome) h += ' ' + badge(d.outcome, OUT[d.outcome] || '#777');
    h += '</p>';
    if (d.source) {
      const letter = /\.(pdf|txt|md)$/i.test(d.source);
      h += '<p><a class="source" href="' + esc(d.source) + '">Open the source ' + (letter ? 'letter' : 'file') + '</a></p>';
    }
    const a = d.attrs || {};
    if (d.item !== undefined) {
      if (a.request) h += '<h3>Request</h3><p>' + esc(a.request) + '</p>';
      const sentence = decisionText(a);
      if (sentence) h += '<h3>Decision</h3><p class="decision">' + esc(sentence) + '</p>';
      if (a.rationale) h += '<details><summary>Rationale</summary><p>' + esc(a.rationale) + '</p></details>';
    }
    const items = inAdj[i].map((e) => DATA.edges[e].s).concat(outAdj[i].map((e) => DATA.edges[e].t))
      .filter((j, k, all) => nodes[j].item !== undefined && all.indexOf(j) === k && j !== i);
    if (d.case && items.length) {
      h += '<h3>Items</h3><ul>' + items.map((j) => '<li><a href="#" data-jump="' + j + '">' + esc(nodes[j].label) + '</a> ' +
        (nodes[j].outcome ? badge(nodes[j].outcome, OUT[nodes[j].outcome]) : '') + '</li>').join('') + '</ul>';
    }
    const shown = new Set(['request', 'textSpan', 'rationale', 'decision']);
    const props = Object.keys(a).filter((k) => !shown.has(k)).sort();
    if (props.length) h += '<h3>Properties</h3><table>' + props.map((k) => row(k, a[k])).join('') + '</table>';
    h += '<table class="iri">' + row('IRI', d.id) + '</table>';
    const link = (e, other, dir) => '<li><span class="pred">' + (dir ? '' : '\u2190 ') + esc(DATA.edges[e].label) + (dir ? ' \u2192' : '') +
      '</span> <a href="#" data-jump="' + other + '">' + esc(nodes[other].label) + '</a></li>';
    const outs = outAdj[i].map((e) => link(e, DATA.edges[e].t, true));
    const ins = inAdj[i].map((e) => link(e, DATA.edges[e].s, false));
    if (outs.length + ins.length) h += '<h3>Links</h3><ul class="links">' + outs.concat(ins).slice(0, 200).join('') + '</ul>';
    $('panel').innerHTML = h;
    $('panel').querySelectorAll('a[data-jump]').forEach((el) => el.addEventListener('click', (ev) => {
      ev.preventDefault();
      const target = cy.getElementById('n' + el.dataset.jump);
      if (target.hasClass('hidden')) { target.removeClass('hidden'); target.connectedEdges().filter((e) => !e.source().hasClass('hidden') && !e.target().hasClass('hidden')).removeClass('hidden'); }
      cy.animate({ center: { eles: target } }, { duration: 200 });
      focus(target);
    }));
  }

  function overviewPanel(node) {
    const data = node.data();
    let h = '<h2>' + esc(data.c !== undefined ? DATA.concepts[data.c][0] : data.outcomeName) + '</h2><p>' + badge(typeLabel(data.type), data.colour);
    if (data.c !== undefined && DATA.concepts[data.c][2]) h += ' <code class="code">' + esc(DATA.concepts[data.c][2]) + '</code>';
    h += '</p><table>' + row('disputed items', data.count);
    if (data.c !== undefined) {
      const o = overview.byOutcome.get(data.c) || {};
      let total = 0;
      Object.keys(o).forEach((k) => { total += o[k]; h += row(DATA.facets.outcome[k], o[k]); });
      const over = DATA.facets.outcome.indexOf('Overturned');
      if (over >= 0 && total) h += row('overturn rate', Math.round(100 * (o[over] || 0) / total) + '%');
      h += row('IRI', DATA.concepts[data.c][3]);
    }
    h += '</table>';
    const near = node.connectedEdges().not('.hidden').sort((x, y) => y.data('weight') - x.data('weight'));
    if (near.length) {
      h += '<h3>Linked</h3><ul class="links">' + near.map((e) => {
        const other = e.source().same(node) ? e.target() : e.source();
        return '<li><a href="#" data-jump="' + esc(other.id()) + '">' + esc(other.data('display')) + '</a> <span class="pred">' + esc(e.data('label')) + '</span></li>';
      }).slice(0, 40).join('') + '</ul>';
    }
    h += '<p class="hint">Counts follow the filters. Narrow the export (--case, --service, --section) to see the cases themselves.</p>';
    $('panel').innerHTML = h;
    $('panel').querySelectorAll('a[data-jump]').forEach((el) => el.addEventListener('click', (ev) => {
      ev.preventDefault(); focus(cy.getElementById(el.dataset.jump));
    }));
  }

  // ------------------------------------------------------------------ wiring
  cy.on('tap', 'node', (ev) => focus(ev.target));
  cy.on('tap', (ev) => { if (ev.target === cy) { clearFocus(); clearPanel(); } });
  $('search').addEventListener('input', (ev) => { state.query = ev.target.value; applySearch(); });
  $('search').addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter') return;
    const first = cy.nodes('.match').first();
    if (first.length) { cy.animate({ center: { eles: first }, zoom: Math.max(cy.zoom(), 1) }, { duration: 200 }); focus(first); }
  });
  $('provenance-toggle').addEventListener('change', (ev) => { state.provenance = ev.target.checked; state.view === 'overview' ? rebuild() : refilter(); });
  $('fit').addEventListener('click', () => cy.fit(cy.elements().not('.hidden'), 30));
  $('overview').addEventListener('click', () => { state.view = state.view === 'overview' ? 'detail' : 'overview'; rebuild(); });

  window.imrViewer = {
    cy: cy,
    view: () => state.view,
    renderedNodes: () => cy.nodes().not('.hidden').length,
    renderedEdges: () => cy.edges().not('.hidden').length,
    /** Page coordinates of a node (by IRI in the detail view, by label in the overview). */
    nodePoint: (key) => {
      const n = cy.nodes().filter((x) => (state.view === 'overview'
        ? (x.data('c') !== undefined ? DATA.concepts[x.data('c')][0] : x.data('outcomeName')) : nodes[x.data('i')].id) === key).first();
      if (!n.length) return null;
      const box = $('cy').getBoundingClientRect();
      const p = n.renderedPosition();
      return [box.left + p.x, box.top + p.y];
    },
  };
  buildFilters();
  rebuild();
})();
