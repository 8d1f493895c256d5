/* normaxes axis explorer: pick a layout and a norm, see which entries share one mean and one
   variance. Runs in the static page (no kernel). The statistics sets are computed here from the
   chosen axes, the same rule as normaxes.standardize: two entries share their statistics exactly
   when they agree on every axis NOT in `over`. The browser test checks every choice against
   normaxes.stat_groups, whose labels the book's Sphinx extension writes into the page
   (script#axis-explorer-reference). */
(function () {
  "use strict";
  var LAYOUTS = {
    seq: {name: "[B, T, F]", axes: ["B", "T", "F"], shape: [3, 4, 6], batch: "B", channel: "F",
          layout: "B T F", group: "B T (G Fg)", dims: "B, T, F"},
    img: {name: "[N, C, H, W]", axes: ["N", "C", "H", "W"], shape: [3, 6, 2, 2], batch: "N",
          channel: "C", layout: "N C H W", group: "N (G Cg) H W", dims: "N, C, H, W"}
  };
  var NORMS = {  // over, on each layout
    BN: {name: "Batch Norm", seq: ["B", "T"], img: ["N", "H", "W"]},
    LN: {name: "Layer Norm", seq: ["F"], img: ["C", "H", "W"]},
    GN: {name: "Group Norm", seq: ["T", "Fg"], img: ["Cg", "H", "W"]},
    IN: {name: "Instance Norm", seq: ["T"], img: ["H", "W"]},
    custom: {name: "custom set of axes"}
  };
  var SHADE = "#3b75af";
  var PALETTE = ["#f4c27a", "#a9d5a0", "#e6a3a3", "#b7b2e0", "#f0e08c", "#9fd3d6",
                 "#e3b3d6", "#c9c9a3", "#f2b48f", "#bcd6f0", "#d8c0a0", "#c5e3b5"];
  var SVGNS = "http://www.w3.org/2000/svg";

  function product(a) { return a.reduce(function (p, v) { return p * v; }, 1); }

  /* Each entry's statistics set: with groups, the channel axis splits into (G, Cg), Cg = C/G
     channels a group (Fg on sequences), and the group index is kept as a separate axis (never
     in `over`). */
  function groups(L, over, G) {
    var shape = L.shape, n = product(shape), labels = new Array(n), ids = {}, next = 0;
    var ch = L.axes.indexOf(L.channel);
    for (var k = 0; k < n; k++) {
      var idx = [], r = k;
      for (var d = shape.length - 1; d >= 0; d--) { idx[d] = r % shape[d]; r = Math.floor(r / shape[d]); }
      var key = [];
      for (var a = 0; a < shape.length; a++) {
        var name = G && a === ch ? L.axes[a] + "g" : L.axes[a];
        if (G && a === ch) { key.push("g" + Math.floor(idx[a] / (shape[a] / G))); }
        if (over.indexOf(name) < 0) { key.push(name + idx[a]); }
      }
      key = key.join(",");
      if (!(key in ids)) { ids[key] = next++; }
      labels[k] = ids[key];
    }
    return labels;
  }

  function tuple(nums) { return nums.length === 1 ? "(" + nums[0] + ",)" : "(" + nums.join(", ") + ")"; }

  function code(L, norm, over, G) {
    var sizes = G ? ", G=" + G : "";
    var layout = G ? L.group : L.layout;
    var std = 'y = standardize(x, "' + layout + '", over="' + over.join(" ") + '"' + sizes + ")";
    var axes = L.axes.slice(), lines = [];
    if (G) {  // the channel axis split into (G, Cg): G groups of Cg = C // G channels
      var ch = axes.indexOf(L.channel), inner = L.channel + "g", shapeNames = L.axes.slice();
      shapeNames[ch] = "G, " + inner;
      lines.push(L.dims + " = x.shape; G = " + G + "; " + inner + " = " + L.channel + " // G");
      lines.push("xg = x.reshape(" + shapeNames.join(", ") + ")");
      axes.splice(ch, 1, "G", inner);
    }
    var dims = [];
    axes.forEach(function (a, i) { if (over.indexOf(a) >= 0) { dims.push(i); } });
    var src = G ? "xg" : "x";
    lines.push("mean = " + src + ".mean(dim=" + tuple(dims) + ", keepdim=True)");
    lines.push("var = " + src + ".var(dim=" + tuple(dims) + ", keepdim=True, unbiased=False)");
    lines.push(G ? "y = ((xg - mean) / torch.sqrt(var + 1e-5)).reshape(x.shape)"
                 : "y = (x - mean) / torch.sqrt(var + 1e-5)");
    return {standardize: std, torch: lines.join("\n")};
  }

  function el(name, attrs, parent) {
    var e = document.createElementNS(SVGNS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(e); }
    return e;
  }

  /* The cube, exploded along the batch axis so that every entry is visible: one slab per batch
     element, channel axis left to right, the other axes flattened downwards (first on top), the
     batch axis going into the page, as in the book's cube figures. */
  function draw(svg, L, labels, selected) {
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var B = L.shape[0], ch = L.axes.indexOf(L.channel), C = L.shape[ch];
    var rest = L.axes.filter(function (a) { return a !== L.batch && a !== L.channel; });
    var R = product(L.shape) / (B * C), cw = 22, rh = 20, sx = C * cw + 26, sy = 34;
    var W = 100 + B * sx, H = 70 + R * rh + (B - 1) * sy;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    var strides = [], s = 1;
    for (var d = L.shape.length - 1; d >= 0; d--) { strides[d] = s; s *= L.shape[d]; }
    for (var b = B - 1; b >= 0; b--) {  // back to front
      var x0 = 70 + b * sx, y0 = 40 + (B - 1 - b) * sy;
      var g = el("g", {"class": "slab"}, svg);
      el("text", {x: x0 + C * cw / 2, y: y0 - 8, "text-anchor": "middle", "class": "ax-label"}, g)
        .textContent = L.batch + " = " + (b + 1);
      for (var r = 0; r < R; r++) {
        for (var c = 0; c < C; c++) {
          var idx = [], rr = r;  // unflatten the rest axes (layout order, last fastest)
          for (var a = L.axes.length - 1; a >= 0; a--) {
            if (a === 0) { idx[a] = b; } else if (a === ch) { idx[a] = c; } else {
              idx[a] = rr % L.shape[a]; rr = Math.floor(rr / L.shape[a]);
            }
          }
          var flat = 0;
          idx.forEach(function (v, i) { flat += v * strides[i]; });
          var label = labels[flat];
          var same = label === labels[selected];
          el("rect", {
            x: x0 + c * cw, y: y0 + r * rh, width: cw - 2, height: rh - 2, rx: 2,
            fill: same ? SHADE : PALETTE[label % PALETTE.length],
            "class": "entry" + (flat === selected ? " selected" : ""),
            "data-index": idx.join(","), "data-flat": flat, "data-group": label
          }, g);
          el("text", {x: x0 + c * cw + (cw - 2) / 2, y: y0 + r * rh + rh / 2 + 2,
                      "text-anchor": "middle", "class": "set-number" + (same ? " shaded" : "")}, g)
            .textContent = label + 1;  // the number of the entry's statistics set
        }
      }
    }
    el("text", {x: 70 + (B - 1) * sx + C * cw / 2, y: H - 8, "text-anchor": "middle", "class": "ax-label"}, svg)
      .textContent = L.channel + " →";
    el("text", {x: 64, y: 40 + (B - 1) * sy + R * rh / 2, "text-anchor": "end", "class": "ax-label"}, svg)
      .textContent = (rest.length > 1 ? "(" + rest.join(" ") + ")" : rest[0]) + " ↓";
    el("text", {x: W - 10, y: 16, "text-anchor": "end", "class": "ax-label"}, svg)
      .textContent = L.batch + " ↗";
  }

  function init(root) {
    var state = {layout: "seq", norm: "BN", G: 2, custom: {}, selected: 0};
    var svg = root.querySelector("svg.axis-explorer-cube");
    var std = root.querySelector(".axis-explorer-standardize");
    var torch = root.querySelector(".axis-explorer-torch");
    var summary = root.querySelector(".axis-explorer-summary");
    var customBox = root.querySelector(".axis-explorer-custom");
    var gBox = root.querySelector(".axis-explorer-g");

    function over() {
      var L = LAYOUTS[state.layout];
      if (state.norm !== "custom") { return NORMS[state.norm][state.layout]; }
      return L.axes.filter(function (a) { return state.custom[state.layout + a]; });
    }

    function render() {
      var L = LAYOUTS[state.layout], G = state.norm === "GN" ? state.G : 0, o = over();
      root.setAttribute("data-state", [state.layout, state.norm, G, o.join(" ")].join("|"));
      customBox.querySelectorAll("label").forEach(function (lab) {
        lab.hidden = lab.getAttribute("data-layout") !== state.layout;
      });
      customBox.hidden = state.norm !== "custom";
      gBox.hidden = state.norm !== "GN";
      if (!o.length) {  // standardize refuses an empty set of axes (ValueError: over is empty)
        while (svg.firstChild) { svg.removeChild(svg.firstChild); }
        summary.textContent = "Tick at least one axis: standardize refuses an empty set of axes " +
          "(every entry would be its own set, with variance 0).";
        std.textContent = "";
        torch.textContent = "";
        return;
      }
      var labels = groups(L, o, G);
      draw(svg, L, labels, state.selected);
      var c = code(L, state.norm, o, G);
      std.textContent = c.standardize;
      torch.textContent = c.torch;
      var sets = Math.max.apply(null, labels) + 1, m = labels.length / sets;
      summary.textContent = NORMS[state.norm].name + (G ? " (G = " + G + ")" : "") + " on " + L.name +
        " of shape [" + L.shape.join(", ") + "]: " + sets + " statistics set" + (sets === 1 ? "" : "s") +
        " of m = " + m + " entries each (each entry shows the number of its set); the selected entry's set is shaded blue" +
        " (click an entry to select another).";
    }

    root.querySelectorAll("input[name=ax-layout]").forEach(function (i) {
      i.addEventListener("change", function () { state.layout = i.value; state.selected = 0; render(); });
    });
    root.querySelectorAll("input[name=ax-norm]").forEach(function (i) {
      i.addEventListener("change", function () { state.norm = i.value; render(); });
    });
    root.querySelector("select.axis-explorer-groups").addEventListener("change", function (e) {
      state.G = parseInt(e.target.value, 10); render();
    });
    Object.keys(LAYOUTS).forEach(function (key) {
      LAYOUTS[key].axes.forEach(function (a) {
        var lab = document.createElement("label");
        lab.setAttribute("data-layout", key);
        var box = document.createElement("input");
        box.type = "checkbox"; box.value = a; box.className = "ax-custom";
        box.addEventListener("change", function () { state.custom[key + a] = box.checked; render(); });
        lab.appendChild(box);
        lab.appendChild(document.createTextNode(" " + a + " "));
        customBox.appendChild(lab);
      });
    });
    svg.addEventListener("click", function (e) {
      var f = e.target.getAttribute && e.target.getAttribute("data-flat");
      if (f !== null && f !== undefined) { state.selected = parseInt(f, 10); render(); }
    });
    render();
  }

  function start() { document.querySelectorAll(".axis-explorer").forEach(init); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
