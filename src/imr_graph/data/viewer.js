/* imr-graph offline graph viewer. Hand-written vanilla JavaScript + SVG, no dependencies,
 * no network. Reads the graph from <script id="graph-data" type="application/json">,
 * lays it out with a grid-accelerated Fruchterman-Reingold force layout, and offers
 * pan/zoom, search, a type legend (click to hide a type) and a property panel.
 * Part of imr-graph (MIT licence). */
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var nodes = data.nodes, edges = data.edges, N = nodes.length;
  var colours = {};
  data.types.forEach(function (t) { colours[t.name] = t.colour; });

  // ---- adjacency -------------------------------------------------------------------------
  var out = nodes.map(function () { return []; });
  var inc = nodes.map(function () { return []; });
  edges.forEach(function (e, i) { out[e.s].push(i); inc[e.t].push(i); });
  var degree = nodes.map(function (_, i) { return out[i].length + inc[i].length; });

  // ---- layout ----------------------------------------------------------------------------
  var K = 40;                                   // ideal edge length
  var X = new Float64Array(N), Y = new Float64Array(N);
  var seed = 12345;
  function rand() {                             // deterministic (mulberry32)
    seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
    var t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  var R0 = K * Math.sqrt(N + 1);
  for (var i = 0; i < N; i++) {
    var a = rand() * 2 * Math.PI, r = R0 * Math.sqrt(rand());
    X[i] = r * Math.cos(a); Y[i] = r * Math.sin(a);
  }
  var DX = new Float64Array(N), DY = new Float64Array(N);
  var ITER = N > 1500 ? 180 : 300, iter = 0;

  function step() {
    var temp = R0 * 0.1 * (1 - iter / ITER) + 0.5;
    var cell = 2 * K, grid = new Map(), k2 = K * K, i, j;
    DX.fill(0); DY.fill(0);
    for (i = 0; i < N; i++) {
      var key = Math.floor(X[i] / cell) + "," + Math.floor(Y[i] / cell);
      var bucket = grid.get(key);
      if (bucket) bucket.push(i); else grid.set(key, [i]);
    }
    for (i = 0; i < N; i++) {                   // repulsion from nearby nodes
      var cx = Math.floor(X[i] / cell), cy = Math.floor(Y[i] / cell);
      for (var gx = cx - 1; gx <= cx + 1; gx++) {
        for (var gy = cy - 1; gy <= cy + 1; gy++) {
          var b = grid.get(gx + "," + gy);
          if (!b) continue;
          for (var q = 0; q < b.length; q++) {
            j = b[q];
            if (j <= i) continue;
            var dx = X[i] - X[j], dy = Y[i] - Y[j], d2 = dx * dx + dy * dy;
            if (d2 < 0.01) { dx = rand() - 0.5; dy = rand() - 0.5; d2 = dx * dx + dy * dy; }
            if (d2 > cell * cell) continue;
            var f = k2 / d2;
            DX[i] += dx * f; DY[i] += dy * f; DX[j] -= dx * f; DY[j] -= dy * f;
          }
        }
      }
    }
    for (var e = 0; e < edges.length; e++) {    // springs
      var s = edges[e].s, t = edges[e].t;
      if (s === t) continue;
      var ex = X[s] - X[t], ey = Y[s] - Y[t], d = Math.sqrt(ex * ex + ey * ey) + 0.01;
      var fa = d / K / Math.max(1, Math.sqrt(Math.min(degree[s], degree[t])));
      DX[s] -= ex * fa; DY[s] -= ey * fa; DX[t] += ex * fa; DY[t] += ey * fa;
    }
    for (i = 0; i < N; i++) {                   // gravity + capped move
      DX[i] -= X[i] * 0.02; DY[i] -= Y[i] * 0.02;
      var len = Math.sqrt(DX[i] * DX[i] + DY[i] * DY[i]);
      if (len > 0) {
        var m = Math.min(len, temp) / len;
        X[i] += DX[i] * m; Y[i] += DY[i] * m;
      }
    }
    iter++;
  }

  // ---- SVG ---------------------------------------------------------------------------------
  function el(name, attrs, parent) {
    var x = document.createElementNS(SVGNS, name);
    for (var k in attrs) x.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(x);
    return x;
  }
  var svg = document.getElementById("canvas");
  var viewport = el("g", { id: "viewport" }, svg);
  var gEdges = el("g", { id: "edges" }, viewport);
  var gNodes = el("g", { id: "nodes" }, viewport);
  var gLabels = el("g", { id: "labels" }, viewport);
  var edgeEls = edges.map(function (e) {
    var line = el("line", { "class": "edge" + (e.outcome ? " outcome" : "") }, gEdges);
    if (e.outcome) line.style.stroke = data.outcomeColours[e.outcome];
    return line;
  });
  var nodeEls = nodes.map(function (n, i) {
    var c = el("circle", {
      "class": "node", r: (4 + Math.min(10, Math.sqrt(degree[i]))).toFixed(1),
      fill: colours[n.type] || "#999", "data-i": i
    }, gNodes);
    var title = el("title", {}, c);
    title.textContent = n.label + " (" + n.type + ")";
    return c;
  });
  var showAllLabels = N <= 150;
  var labelEls = nodes.map(function (n) {
    var t = el("text", { "class": "label" }, gLabels);
    t.textContent = n.label.length > 42 ? n.label.slice(0, 41) + "\u2026" : n.label;
    return t;
  });
  var labelsBox = document.getElementById("labels-toggle");
  labelsBox.checked = showAllLabels;
  function applyLabels() {
    gLabels.style.display = labelsBox.checked ? "" : "none";
  }
  labelsBox.addEventListener("change", applyLabels);
  applyLabels();

  function draw() {
    for (var e = 0; e < edges.length; e++) {
      var l = edgeEls[e], s = edges[e].s, t = edges[e].t;
      l.setAttribute("x1", X[s].toFixed(1)); l.setAttribute("y1", Y[s].toFixed(1));
      l.setAttribute("x2", X[t].toFixed(1)); l.setAttribute("y2", Y[t].toFixed(1));
    }
    for (var i = 0; i < N; i++) {
      nodeEls[i].setAttribute("cx", X[i].toFixed(1)); nodeEls[i].setAttribute("cy", Y[i].toFixed(1));
      labelEls[i].setAttribute("x", (X[i] + 8).toFixed(1));
      labelEls[i].setAttribute("y", (Y[i] + 3).toFixed(1));
    }
  }

  // ---- pan & zoom --------------------------------------------------------------------------
  var view = { x: 0, y: 0, k: 1 }, userMoved = false;
  function applyView() {
    viewport.setAttribute("transform",
      "translate(" + view.x.toFixed(1) + "," + view.y.toFixed(1) + ") scale(" + view.k.toFixed(4) + ")");
  }
  function fit() {
    if (!N) return;
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (var i = 0; i < N; i++) {
      minX = Math.min(minX, X[i]); maxX = Math.max(maxX, X[i]);
      minY = Math.min(minY, Y[i]); maxY = Math.max(maxY, Y[i]);
    }
    var w = svg.clientWidth || 800, h = svg.clientHeight || 600, pad = 60;
    view.k = Math.min(1.5, Math.min(w / (maxX - minX + pad * 2), h / (maxY - minY + pad * 2)));
    view.x = w / 2 - view.k * (minX + maxX) / 2;
    view.y = h / 2 - view.k * (minY + maxY) / 2;
    applyView();
  }
  function centreOn(i) {
    var w = svg.clientWidth || 800, h = svg.clientHeight || 600;
    view.k = Math.max(view.k, 1.5);
    view.x = w / 2 - view.k * X[i]; view.y = h / 2 - view.k * Y[i];
    userMoved = true; applyView();
  }
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var rect = svg.getBoundingClientRect(), mx = ev.clientX - rect.left, my = ev.clientY - rect.top;
    var f = Math.exp(-ev.deltaY * 0.0015), k = Math.max(0.02, Math.min(20, view.k * f));
    view.x = mx - (mx - view.x) * (k / view.k); view.y = my - (my - view.y) * (k / view.k);
    view.k = k; userMoved = true; applyView();
  }, { passive: false });
  var drag = null;
  svg.addEventListener("mousedown", function (ev) {
    drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y, moved: false };
  });
  window.addEventListener("mousemove", function (ev) {
    if (!drag) return;
    var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; userMoved = true; }
    view.x = drag.vx + dx; view.y = drag.vy + dy; applyView();
  });
  window.addEventListener("mouseup", function () { setTimeout(function () { drag = null; }, 0); });
  document.getElementById("fit").addEventListener("click", function () { userMoved = false; fit(); });

  // ---- selection & property panel ---------------------------------------------------------
  var panel = document.getElementById("panel");
  var selected = -1;
  function text(tag, content, cls) {
    var x = document.createElement(tag);
    x.textContent = content;
    if (cls) x.className = cls;
    return x;
  }
  function nodeLink(j) {
    var a = text("a", nodes[j].label);
    a.href = "#";
    a.title = nodes[j].type + ": " + nodes[j].id;
    a.addEventListener("click", function (ev) { ev.preventDefault(); select(j, true); });
    return a;
  }
  function select(i, centre) {
    if (selected >= 0) nodeEls[selected].classList.remove("selected");
    selected = i;
    panel.textContent = "";
    if (i < 0) { panel.appendChild(text("p", "Click a node to see its properties.", "hint")); return; }
    var n = nodes[i];
    nodeEls[i].classList.add("selected");
    panel.appendChild(text("h2", n.label));
    var badge = text("span", n.type, "badge");
    badge.style.background = colours[n.type] || "#999";
    panel.appendChild(badge);
    if (n.outcome) {
      var ob = text("span", n.outcome, "badge");
      ob.style.background = data.outcomeColours[n.outcome];
      panel.appendChild(ob);
    }
    if (n.source) {
      var p = document.createElement("p");
      var a = text("a", "Open the source letter", "source");
      a.href = n.source; a.target = "_blank"; a.rel = "noopener";
      a.title = n.source;
      p.appendChild(a); panel.appendChild(p);
    }
    var table = document.createElement("table");
    Object.keys(n.attrs).forEach(function (key) {
      var tr = document.createElement("tr");
      tr.appendChild(text("th", key));
      tr.appendChild(text("td", String(n.attrs[key])));
      table.appendChild(tr);
    });
    panel.appendChild(table);
    function rel(list, dir) {
      if (!list.length) return;
      panel.appendChild(text("h3", (dir === "out" ? "Links to" : "Linked from") + " (" + list.length + ")"));
      var ul = document.createElement("ul");
      list.slice(0, 200).forEach(function (ei) {
        var e = edges[ei], li = document.createElement("li");
        li.appendChild(text("span", e.label + " ", "pred"));
        li.appendChild(nodeLink(dir === "out" ? e.t : e.s));
        ul.appendChild(li);
      });
      if (list.length > 200) ul.appendChild(text("li", "\u2026 " + (list.length - 200) + " more"));
      panel.appendChild(ul);
    }
    rel(out[i], "out"); rel(inc[i], "in");
    if (centre) centreOn(i);
  }
  gNodes.addEventListener("click", function (ev) {
    if (drag && drag.moved) return;
    var i = ev.target.getAttribute && ev.target.getAttribute("data-i");
    if (i !== null && i !== undefined) select(+i, false);
  });

  // ---- search ----------------------------------------------------------------------------
  var search = document.getElementById("search"), count = document.getElementById("match-count");
  var matches = [];
  function runSearch(q) {
    q = q.trim().toLowerCase();
    matches = [];
    nodeEls.forEach(function (c, i) {
      var hit = q && (nodes[i].label.toLowerCase().indexOf(q) >= 0 ||
                      nodes[i].id.toLowerCase().indexOf(q) >= 0);
      c.classList.toggle("match", !!hit);
      labelEls[i].classList.toggle("match", !!hit);
      if (hit) matches.push(i);
    });
    svg.classList.toggle("searching", !!q);
    count.textContent = q ? matches.length + " match" + (matches.length === 1 ? "" : "es") : "";
    return matches.length;
  }
  search.addEventListener("input", function () { runSearch(search.value); });
  search.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && matches.length) select(matches[0], true);
  });

  // ---- legend (click a type to hide it) ----------------------------------------------------
  var hidden = {};
  function applyHidden() {
    nodeEls.forEach(function (c, i) {
      var h = !!hidden[nodes[i].type];
      c.style.display = h ? "none" : ""; labelEls[i].style.display = h ? "none" : "";
    });
    edgeEls.forEach(function (l, e) {
      var h = hidden[nodes[edges[e].s].type] || hidden[nodes[edges[e].t].type];
      l.style.display = h ? "none" : "";
    });
  }
  var legend = document.getElementById("legend");
  data.types.forEach(function (t) {
    var li = document.createElement("li");
    var sw = text("span", "", "swatch"); sw.style.background = t.colour;
    li.appendChild(sw); li.appendChild(text("span", t.name + " (" + t.count + ")"));
    li.title = "Click to hide or show " + t.name;
    li.addEventListener("click", function () {
      hidden[t.name] = !hidden[t.name]; li.classList.toggle("off", hidden[t.name]); applyHidden();
    });
    legend.appendChild(li);
  });
  Object.keys(data.outcomeColours).forEach(function (o) {
    var li = document.createElement("li");
    var sw = text("span", "", "swatch line"); sw.style.background = data.outcomeColours[o];
    li.appendChild(sw); li.appendChild(text("span", o + " edges"));
    legend.appendChild(li);
  });

  // ---- run ---------------------------------------------------------------------------------
  document.getElementById("counts").textContent =
    N + " nodes \u00b7 " + edges.length + " edges";
  select(-1);
  window.imrViewer = {
    nodeCount: N, edgeCount: edges.length, nodes: nodes,
    renderedNodes: function () { return gNodes.querySelectorAll("circle.node").length; },
    renderedEdges: function () { return gEdges.querySelectorAll("line.edge").length; },
    search: runSearch,
    select: function (id) {
      for (var i = 0; i < N; i++) if (nodes[i].id === id) { select(i, true); return true; }
      return false;
    },
    fit: fit
  };
  draw(); fit();
  function chunk() {
    var until = performance.now() + 30;
    while (iter < ITER && performance.now() < until) step();
    draw();
    if (!userMoved) fit();
    if (iter < ITER) { setTimeout(chunk, 0); return; }
    document.body.setAttribute("data-ready", "true");
  }
  setTimeout(chunk, 0);
})();
