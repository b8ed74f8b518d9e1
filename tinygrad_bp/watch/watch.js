// The watch page: draws frames of a tinygrad_bp training session.
// Live (served by `tinygrad-bp watch`): frames arrive as server-sent events from /events
// and the controls post to /control. Recorded (`--record`): the frames are inside the
// page, in the JSON script element #recording, and a slider moves between them.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  // The palette (tinygrad_bp.viz.palette) arrives as CSS variables, "#rrggbb" each.
  const style = getComputedStyle(document.documentElement);
  const colour = (name) => {
    const hex = style.getPropertyValue(name).trim();
    return [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16));
  };
  const POSITIVE = colour("--positive");
  const NEGATIVE = colour("--negative");
  const CLASS1 = colour("--class1");
  const CLASS0 = colour("--class0");
  const byId = (id) => document.getElementById(id);

  let frame = null; // the frame shown
  let chosen = null; // {kind: "unit", layer, unit} or {kind: "edge", layer, from, to}
  let shownConfig = ""; // the settings last copied into the controls
  let pausing = false; // Pause clicked, the server's answer not here yet
  const recording = byId("recording") ? JSON.parse(byId("recording").textContent) : null;

  // Numbers as `tinygrad-bp explain` prints them: 8 decimals, no "-0".
  const exact = (x) => (x + 0 === 0 ? 0 : x).toFixed(8);
  // A number inside a formula: in parentheses when negative, so "- -0.1" reads "- (-0.1)".
  const factor = (x) => (x < 0 ? `(${exact(x)})` : exact(x));
  const brief = (x) => (Math.abs(x) < 0.005 ? 0 : x).toFixed(2);
  // The data (an example's x and y): at most 4 decimals, none that are 0 ("1", not "1.00000000").
  const datum = (x) => String(Number(x.toFixed(4)) + 0);

  function element(tag, attributes, parent, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  function html(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function rgba(rgb, alpha) {
    return `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${alpha})`;
  }

  // -- the figures -----------------------------------------------------------------------

  function showFigures() {
    byId("epoch").textContent = String(frame.epoch);
    const loss = byId("loss");
    loss.textContent = frame.loss === null ? "-" : frame.loss.toFixed(6);
    loss.dataset.value = frame.loss === null ? "" : String(frame.loss);
    byId("accuracy").textContent = `${Math.round(100 * frame.accuracy)}%`;
    showState();
  }

  function showState() {
    const mode = frame.config.online ? "online" : "batch";
    let state = `${mode}, lr ${frame.config.lr}`;
    // After a click on Pause the page says so at once; "paused" when the server says so.
    const moving = pausing ? "pausing" : "training";
    if (!recording) state = `${frame.playing ? moving : "paused"}, ${state}`;
    if (frame.position)
      state += `, ${frame.position} of ${frame.points.length} examples into the epoch`;
    byId("state").textContent = state;
  }

  // -- the network -----------------------------------------------------------------------

  function layout() {
    const sizes = [frame.weights[0].length - 1, ...frame.weights.map((w) => w[0].length)];
    const width = 600;
    const height = 360;
    const right = 60; // room right of the output unit for its delta and "target y = ..."
    const step = (width - right) / sizes.length;
    const gaps = sizes.map((size) => Math.min(90, (height - 76) / size));
    const place = sizes.map((size, layer) =>
      Array.from({ length: size + 1 }, (_, i) => ({
        // i = 0 is the bias unit of the layer (input fixed at 1), drawn above the others
        x: step * (layer + 0.5),
        y: i === 0 ? 22 : height / 2 + 4 + (i - (size + 1) / 2) * gaps[layer],
      })),
    );
    return { sizes, place, radii: gaps.map((gap) => Math.min(18, gap * 0.42)) };
  }

  function drawNetwork() {
    const svg = byId("network");
    svg.replaceChildren();
    const { sizes, place, radii } = layout();
    const example = frame.example;
    const largest = Math.max(1e-12, ...frame.weights.flat(2).map(Math.abs));
    byId("max-weight").textContent = largest.toFixed(2);
    const edges = element("g", {}, svg);
    frame.weights.forEach((matrix, below) => {
      matrix.forEach((row, i) => {
        row.forEach((w, j) => {
          const a = place[below][i];
          const b = place[below + 1][j + 1];
          const line = element(
            "line",
            {
              x1: a.x,
              y1: a.y,
              x2: b.x,
              y2: b.y,
              stroke: rgba(w >= 0 ? POSITIVE : NEGATIVE, 0.85),
              "stroke-width": (0.6 + (7 * Math.abs(w)) / largest).toFixed(2),
              class: "edge",
              "data-layer": below + 1,
              "data-from": i,
              "data-to": j + 1,
            },
            edges,
          );
          const gradient = -example.dw_autograd[below][i][j] / frame.config.lr;
          element(
            "title",
            {},
            line,
            `${weightName(below + 1, i, j + 1)} = ${exact(w)}\n` +
              `dJ/dw = ${exact(gradient)} for example ${example.index + 1}`,
          );
          if (
            chosen &&
            chosen.kind === "edge" &&
            chosen.layer === below + 1 &&
            chosen.from === i &&
            chosen.to === j + 1
          )
            line.classList.add("chosen");
        });
      });
    });
    sizes.forEach((size, layer) => {
      const names = ["inputs", ...sizes.slice(1, -1).map((_, l) => `hidden ${l + 1}`), "output"];
      element("text", { x: place[layer][1].x, y: 354, class: "layer-label" }, svg, names[layer]);
      if (layer < sizes.length - 1) {
        const bias = element("g", { class: "bias" }, svg);
        const at = place[layer][0];
        element("rect", { x: at.x - 13, y: at.y - 10, width: 26, height: 20, rx: 4 }, bias);
        element("text", { x: at.x, y: at.y + 4 }, bias, "+1");
        element("title", {}, bias, "bias unit: input fixed at 1, its weights are the biases w_0j");
      }
      for (let j = 1; j <= size; j += 1) drawUnit(svg, layer, j, place[layer][j], radii[layer]);
    });
  }

  function drawUnit(svg, layer, j, at, radius) {
    const example = frame.example;
    const o = example.o[layer][j - 1];
    const unit = element(
      "g",
      { class: "unit", id: `unit-${layer}-${j}`, "data-layer": layer, "data-unit": j },
      svg,
    );
    const shade = Math.min(1, Math.abs(o));
    element(
      "circle",
      {
        cx: at.x,
        cy: at.y,
        r: radius,
        fill: rgba(o >= 0 ? POSITIVE : NEGATIVE, 0.15 + 0.6 * shade),
      },
      unit,
    );
    const roomy = radius >= 13; // a dense layer shows its numbers on hover only
    if (roomy) element("text", { x: at.x, y: at.y + 4, class: "value" }, unit, brief(o));
    if (layer === frame.weights.length) {
      element(
        "text",
        { x: at.x, y: at.y + radius + 26, class: "delta" },
        unit,
        `target y = ${datum(example.y)}`,
      );
    }
    if (layer === 0) {
      element("text", { x: at.x - radius - 14, y: at.y + 4 }, unit, `x${j}`);
      element("title", {}, unit, `x${j} = ${exact(o)}`);
    } else {
      const d = example.delta[layer - 1][j - 1];
      if (roomy)
        onCard(
          unit,
          element(
            "text",
            { x: at.x + radius + 4, y: at.y + 4, class: "delta" },
            unit,
            `\u03b4 ${Math.abs(d) < 1e-3 && d !== 0 ? d.toExponential(1) : d.toPrecision(2)}`,
          ),
        );
      element(
        "title",
        {},
        unit,
        `${unitName(layer, j)} = ${exact(o)}, \u03b4 = ${exact(d)}; click for its delta rule`,
      );
    }
    if (chosen && chosen.kind === "unit" && chosen.layer === layer && chosen.unit === j)
      unit.classList.add("chosen");
  }

  // A label on a white card, so that the edges (drawn first) never run through its text.
  function onCard(parent, text) {
    const box = text.getBBox();
    const card = { x: box.x - 2, y: box.y, width: box.width + 4, height: box.height, rx: 2 };
    parent.insertBefore(element("rect", { ...card, class: "card" }), text);
  }

  const unitName = (layer, j) => `o[${layer}][${j}]`;
  const weightName = (layer, i, j) => `w[${layer}][${i},${j}]`;

  // One listener for the whole picture, on pointerdown: the picture is redrawn with
  // every frame, so a click (down and up on the same element) could miss while training.
  function pick(event) {
    const unit = event.target.closest(".unit[data-layer]");
    const edge = event.target.closest(".edge");
    if (unit && unit.dataset.layer !== "0") {
      choose({ kind: "unit", layer: Number(unit.dataset.layer), unit: Number(unit.dataset.unit) });
    } else if (edge) {
      const [layer, from, to] = ["layer", "from", "to"].map((key) => Number(edge.dataset[key]));
      choose({ kind: "edge", layer, from, to });
    }
  }

  function choose(what) {
    chosen = what;
    drawNetwork();
    showDetails();
    // The numbers asked for start below the fold on a laptop screen: bring them up.
    const panel = byId("details");
    if (panel.getBoundingClientRect().top > window.innerHeight - 160)
      panel.scrollIntoView({ block: "start" });
  }

  // -- the numbers of one unit or weight --------------------------------------------------

  function showDetails() {
    const panel = byId("details");
    if (!chosen) return;
    const example = frame.example;
    panel.replaceChildren(
      html(
        "h2",
        chosen.kind === "unit"
          ? `Unit ${unitName(chosen.layer, chosen.unit)}: its delta for example ${example.index + 1}`
          : `Weight ${weightName(chosen.layer, chosen.from, chosen.to)}: its gradient for example ${example.index + 1}`,
      ),
    );
    const inputs = example.x.map(datum).join(", ");
    panel.appendChild(
      html(
        "p",
        `example ${example.index + 1}: x = (${inputs}), target y = ${datum(example.y)}, ` +
          `lr = ${frame.config.lr}, J = 1/2 (y - o)^2 = ${exact(example.J)}`,
      ),
    );
    const body = html("div", undefined, "details-body");
    panel.appendChild(body);
    if (chosen.kind === "unit") unitDetails(body, chosen.layer, chosen.unit);
    else edgeDetails(body, chosen.layer, chosen.from, chosen.to);
  }

  function formula(panel, text) {
    panel.appendChild(html("div", text, "formula"));
  }

  function number(id, value) {
    const span = html("span", exact(value));
    span.id = id;
    return span;
  }

  function unitDetails(body, layer, j) {
    const panel = html("div");
    const side = html("div");
    body.append(panel, side);
    const example = frame.example;
    const last = layer === frame.weights.length;
    const w = frame.weights[layer - 1];
    const below = example.o[layer - 1];
    const o = example.o[layer][j - 1];
    const z = example.z[layer - 1][j - 1];
    const d = example.delta[layer - 1][j - 1];
    const terms = below.map((x, i) => `${factor(w[i + 1][j - 1])} \u00d7 ${factor(x)}`);
    formula(
      panel,
      `net input  z = w_0j + \u03a3_i w_ij x_i = ${exact(w[0][j - 1])} + ${terms.join(" + ")}\n` +
        `           = ${exact(z)}`,
    );
    const g = example.g[layer - 1];
    const out = html("div", `output     o = ${g}(z) = `, "formula");
    out.appendChild(number("unit-o", o));
    panel.appendChild(out);
    const rule = html("div", "", "formula");
    if (last) {
      rule.append(
        "output unit: \u03b4_k = o_k(1 - o_k)(y - o_k)\n" +
          `  = ${exact(o)} \u00d7 (1 - ${exact(o)}) \u00d7 (${exact(example.y)} - ${exact(o)})\n  = `,
      );
    } else {
      const above = frame.weights[layer];
      const deltas = example.delta[layer];
      const sum = above[j].map((wk, k) => `${factor(wk)} \u00d7 ${factor(deltas[k])}`).join(" + ");
      const slope = example.slope[layer - 1][j - 1];
      rule.append(
        `hidden unit: \u03b4_h = g'(z_h) \u00d7 \u03a3_k w_hk \u03b4_k,  g'(z) = ${example.derivative}  ` +
          `(k: the units of layer ${layer + 1})\n  = ${factor(slope)} \u00d7 (${sum})\n  = `,
      );
    }
    rule.appendChild(number("unit-delta", d));
    panel.appendChild(rule);
    const check = html("p", "by autograd (the engine's backward pass): \u03b4 = -dJ/dz = ");
    check.appendChild(number("unit-delta-autograd", example.delta_autograd[layer - 1][j - 1]));
    const agree =
      Math.abs(example.delta_autograd[layer - 1][j - 1] - d) <= 1e-12 * Math.max(1, Math.abs(d));
    check.appendChild(
      html("span", agree ? "  agrees with the rule" : "  DISAGREES", agree ? "agree" : "disagree"),
    );
    panel.appendChild(check);
    if (!last && example.note) panel.appendChild(html("p", example.note, "note"));
    side.appendChild(html("p", "Its incoming weights change by \u0394w_ij = lr \u03b4_j x_i:"));
    const table = html("table", undefined, "updates");
    const head = html("tr");
    for (const name of ["weight", "x_i", "w_ij", "\u0394w by rule", "by autograd"])
      head.appendChild(html("th", name));
    table.appendChild(head);
    [1, ...below].forEach((x, i) => {
      const row = html("tr");
      row.appendChild(html("td", `${weightName(layer, i, j)}${i === 0 ? " (bias)" : ""}`));
      row.appendChild(html("td", exact(x)));
      row.appendChild(html("td", exact(w[i][j - 1])));
      const cell = html("td");
      cell.appendChild(number(`dw-${i}`, example.dw[layer - 1][i][j - 1]));
      row.appendChild(cell);
      row.appendChild(html("td", exact(example.dw_autograd[layer - 1][i][j - 1])));
      table.appendChild(row);
    });
    side.appendChild(table);
  }

  function edgeDetails(body, layer, i, j) {
    const panel = html("div");
    body.appendChild(panel);
    const example = frame.example;
    const x = i === 0 ? 1 : example.o[layer - 1][i - 1];
    const d = example.delta[layer - 1][j - 1];
    const w = frame.weights[layer - 1][i][j - 1];
    formula(
      panel,
      `w = ${exact(w)}  (from ${i === 0 ? "the bias unit, x_0 = 1" : `unit ${i} of layer ${layer - 1}`}` +
        ` to unit ${j} of layer ${layer})`,
    );
    const gradient = html(
      "div",
      `dJ/dw = -\u03b4_j x_i = -${factor(d)} \u00d7 ${factor(x)} = `,
      "formula",
    );
    gradient.appendChild(number("edge-gradient", -d * x));
    panel.appendChild(gradient);
    const update = html(
      "div",
      `\u0394w = lr \u03b4_j x_i = ${frame.config.lr} \u00d7 ${factor(d)} \u00d7 ${factor(x)} = `,
      "formula",
    );
    update.appendChild(number("edge-update", example.dw[layer - 1][i][j - 1]));
    panel.appendChild(update);
    panel.appendChild(
      html(
        "p",
        `by autograd: \u0394w = -lr dJ/dw = ${exact(example.dw_autograd[layer - 1][i][j - 1])}`,
      ),
    );
  }

  // -- the decision boundary ---------------------------------------------------------------

  function toCanvas(canvas, point) {
    const [xLo, xHi, yLo, yHi] = frame.extent;
    return [
      ((point[0] - xLo) / (xHi - xLo)) * canvas.width,
      ((yHi - point[1]) / (yHi - yLo)) * canvas.height,
    ];
  }

  function drawBoundary() {
    const canvas = byId("boundary");
    const context = canvas.getContext("2d");
    const size = Math.round(Math.sqrt(frame.grid.length));
    const small = document.createElement("canvas");
    small.width = size;
    small.height = size;
    const pixels = small.getContext("2d").createImageData(size, size);
    frame.grid.forEach((o, index) => {
      const strength = Math.min(1, Math.abs(o - 0.5) * 2);
      const rgb = o >= 0.5 ? CLASS1 : CLASS0;
      for (let c = 0; c < 3; c += 1)
        pixels.data[4 * index + c] = Math.round(255 + (rgb[c] - 255) * 0.55 * strength);
      pixels.data[4 * index + 3] = 255;
    });
    small.getContext("2d").putImageData(pixels, 0, 0);
    context.imageSmoothingEnabled = true;
    // grid value (i, k) is the output at the plane's point i/(size-1) across, k/(size-1) down:
    // map the source pixels' centres, 0.5 to size - 0.5, onto the canvas's edges
    context.drawImage(small, 0.5, 0.5, size - 1, size - 1, 0, 0, canvas.width, canvas.height);
    drawContour(context, canvas, size);
    const radius = frame.points.length <= 8 ? 8 : 4;
    frame.points.forEach((point, index) => {
      const [px, py] = toCanvas(canvas, point);
      context.beginPath();
      context.arc(px, py, radius, 0, 2 * Math.PI);
      context.fillStyle = rgba(point[2] > 0.5 ? CLASS1 : CLASS0, 1);
      context.fill();
      context.lineWidth = 1.2;
      context.strokeStyle = "#fff";
      context.stroke();
      if (index === frame.example.index) {
        context.beginPath();
        context.arc(px, py, radius + 4, 0, 2 * Math.PI);
        context.lineWidth = 2.5;
        context.strokeStyle = "#000";
        context.stroke();
      }
    });
  }

  // The decision boundary o = 0.5 by marching squares: in each cell of four grid values,
  // where o - 0.5 changes sign along an edge, the line crosses it (linearly interpolated).
  function drawContour(context, canvas, size) {
    const level = (i, k) => frame.grid[k * size + i] - 0.5;
    const sx = canvas.width / (size - 1);
    const sy = canvas.height / (size - 1);
    context.beginPath();
    for (let k = 0; k < size - 1; k += 1) {
      for (let i = 0; i < size - 1; i += 1) {
        const corners = [
          [i, k],
          [i + 1, k],
          [i + 1, k + 1],
          [i, k + 1],
        ];
        const crossings = [];
        for (let e = 0; e < 4; e += 1) {
          const [a, b] = [corners[e], corners[(e + 1) % 4]];
          const [va, vb] = [level(...a), level(...b)];
          if (va < 0 !== vb < 0) {
            const t = va / (va - vb);
            crossings.push([(a[0] + t * (b[0] - a[0])) * sx, (a[1] + t * (b[1] - a[1])) * sy]);
          }
        }
        for (let c = 0; c + 1 < crossings.length; c += 2) {
          context.moveTo(...crossings[c]);
          context.lineTo(...crossings[c + 1]);
        }
      }
    }
    context.lineWidth = 2;
    context.strokeStyle = "rgba(31,35,40,0.8)";
    context.stroke();
  }

  function pickPoint(event) {
    if (recording || !frame) return;
    const canvas = byId("boundary");
    const x = (event.offsetX / canvas.clientWidth) * canvas.width; // offsetX: inside the border
    const y = (event.offsetY / canvas.clientHeight) * canvas.height;
    let best = 0;
    let bestDistance = Infinity;
    frame.points.forEach((point, index) => {
      const [px, py] = toCanvas(canvas, point);
      const distance = (px - x) ** 2 + (py - y) ** 2;
      if (distance < bestDistance) {
        best = index;
        bestDistance = distance;
      }
    });
    control("select", { index: best });
  }

  // -- the loss curve ----------------------------------------------------------------------

  function drawCurve() {
    const canvas = byId("curve");
    const context = canvas.getContext("2d");
    context.clearRect(0, 0, canvas.width, canvas.height);
    const points = frame.curve.filter((point) => point[0] <= frame.epoch && point[1] > 0);
    if (frame.loss !== null && (!points.length || points[points.length - 1][0] < frame.epoch))
      points.push([frame.epoch, frame.loss]);
    context.fillStyle = "#5f6b76";
    context.font = "11px system-ui, sans-serif";
    if (!points.length) {
      context.fillText("no epoch trained yet", 90, 85);
      return;
    }
    const left = 46;
    const bottom = canvas.height - 22;
    const top = 10;
    const right = canvas.width - 10;
    const logs = points.map((point) => Math.log10(Math.max(point[1], 1e-12)));
    let lo = Math.floor(Math.min(...logs));
    let hi = Math.ceil(Math.max(...logs));
    if (hi === lo) {
      hi += 1;
      lo -= 1;
    }
    // a recording's axis spans the whole run, so the slider shows where in it a frame is
    const last = Math.max(
      1,
      recording ? recording.frames[recording.frames.length - 1].epoch : frame.epoch,
    );
    const px = (epoch) => left + ((right - left) * epoch) / last;
    const py = (log) => bottom - ((bottom - top) * (log - lo)) / (hi - lo);
    context.strokeStyle = "#d7dde3";
    context.lineWidth = 1;
    for (let power = lo; power <= hi; power += 1) {
      context.beginPath();
      context.moveTo(left, py(power));
      context.lineTo(right, py(power));
      context.stroke();
      context.fillText(`1e${power}`, 8, py(power) + 4);
    }
    context.fillText("0", left - 3, bottom + 14);
    context.fillText(`epoch ${last}`, right - 60, bottom + 14);
    context.strokeStyle = "#1f2328";
    context.lineWidth = 1.6;
    context.beginPath();
    points.forEach((point, index) => {
      const method = index === 0 ? "moveTo" : "lineTo";
      context[method](px(point[0]), py(logs[index]));
    });
    context.stroke();
    context.beginPath(); // the epoch shown
    context.arc(px(points[points.length - 1][0]), py(logs[logs.length - 1]), 3.5, 0, 2 * Math.PI);
    context.fillStyle = "#1f2328";
    context.fill();
  }

  // -- the error surface -------------------------------------------------------------------

  // Python sends J on a square grid around the current weights (rows from the top) and the
  // path so far projected onto it. Colours are by rank (equal areas per shade, dark = low J),
  // so a flat valley floor shows its slope as well as a steep wall does.
  const SHADES = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  function shade(fraction) {
    const at = fraction * (SHADES.length - 1);
    const low = Math.min(Math.floor(at), SHADES.length - 2);
    const t = at - low;
    return SHADES[low].map((c, k) => Math.round(c + (SHADES[low + 1][k] - c) * t));
  }

  function drawLandscape() {
    const canvas = byId("landscape");
    const surface = frame.landscape;
    if (!canvas || !surface) return;
    const context = canvas.getContext("2d");
    const size = Math.round(Math.sqrt(surface.loss.length));
    const order = surface.loss.map((value, index) => [value, index]).sort((p, q) => p[0] - q[0]);
    const rank = new Array(order.length);
    order.forEach((pair, position) => { rank[pair[1]] = position / (order.length - 1); });
    const small = document.createElement("canvas");
    small.width = size;
    small.height = size;
    const pixels = small.getContext("2d").createImageData(size, size);
    rank.forEach((fraction, index) => {
      const rgb = shade(fraction);
      for (let c = 0; c < 3; c += 1) pixels.data[4 * index + c] = rgb[c];
      pixels.data[4 * index + 3] = 255;
    });
    small.getContext("2d").putImageData(pixels, 0, 0);
    context.imageSmoothingEnabled = true;
    context.drawImage(small, 0.5, 0.5, size - 1, size - 1, 0, 0, canvas.width, canvas.height);
    const [aLo, aHi, bLo, bHi] = surface.extent;
    const at = (point) => [
      ((point[0] - aLo) / (aHi - aLo)) * canvas.width,
      ((bHi - point[1]) / (bHi - bLo)) * canvas.height,
    ];
    if (surface.path.length) {
      for (const [width, colour] of [[4, "#fff"], [2, "#d62728"]]) {
        context.beginPath();
        surface.path.forEach((point, index) => context[index ? "lineTo" : "moveTo"](...at(point)));
        context.lineWidth = width;
        context.strokeStyle = colour;
        context.stroke();
      }
      const marks = [[surface.path[0], "#fff"], [surface.path[surface.path.length - 1], "#ffd700"]];
      for (const [point, colour] of marks) {
        context.beginPath();
        context.arc(...at(point), 5, 0, 2 * Math.PI);
        context.fillStyle = colour;
        context.fill();
        context.lineWidth = 1.5;
        context.strokeStyle = "#000";
        context.stroke();
      }
    }
    const low = Math.min(...surface.loss);
    const high = Math.max(...surface.loss);
    // While training plays, the surface is made every half second: it says of which epoch.
    const now = surface.epoch === frame.epoch && surface.position === frame.position;
    const made = surface.position
      ? `epoch ${surface.epoch}, ${surface.position} examples into epoch ${surface.epoch + 1}`
      : `epoch ${surface.epoch}`;
    byId("landscape-note").textContent =
      `J from ${low.toPrecision(3)} (dark) to ${high.toPrecision(3)} (light); ` +
      `J at the gold dot ${surface.center.toPrecision(4)}. ` +
      `Axes: ${surface.labels.join(" and ")}. ` +
      `White dot: epoch 0; gold dot: ${now ? "now" : made}.`;
  }

  // -- controls ----------------------------------------------------------------------------

  function showControls() {
    const config = frame.config;
    const label = frame.playing ? "\u275a\u275a Pause" : "\u25b6 Play";
    if (byId("play").textContent !== label) byId("play").textContent = label; // not 30 times a second
    byId("step-example").disabled = frame.playing || !config.online;
    byId("step-epoch").disabled = frame.playing;
    const text = JSON.stringify(config);
    if (text === shownConfig) return;
    shownConfig = text;
    byId("dataset").value = config.dataset;
    byId("hidden").value = config.hidden.length ? config.hidden.join(",") : "0";
    byId("activation").value = config.activation;
    byId("lr").value = String(config.lr);
    byId("mode").value = config.online ? "online" : "batch";
    byId("seed").value = String(config.seed);
  }

  function show(next) {
    // Live, an event built just before a control's answer can arrive after it: keep the newer.
    if (!recording && frame && next.version < frame.version) return;
    frame = next;
    showFigures();
    drawNetwork();
    drawBoundary();
    drawCurve();
    drawLandscape();
    showDetails();
    if (!recording) showControls();
  }

  // Frames can arrive faster than a busy machine draws them. Drawing each as it came would
  // queue the drawing, and the epoch shown would go on moving long after Pause; so only the
  // newest frame is kept and drawn once the frames waiting have all been read. After a click
  // on Pause, frames still saying "training" were made before the server paused: none is
  // drawn, and the epoch shown stops at once, until the answer shows where training stopped.
  let latest = null;
  function receive(next) {
    if (latest === null) setTimeout(() => {
      const newest = latest;
      latest = null;
      if (!(pausing && newest.playing)) show(newest);
    });
    if (latest === null || next.version > latest.version) latest = next;
  }

  function playOrPause() {
    const pause = Boolean(frame && frame.playing);
    pausing = pause;
    if (frame) showState();
    control(pause ? "pause" : "play").finally(() => {
      pausing = false;
    });
  }

  async function control(action, settings) {
    byId("error").textContent = "";
    try {
      const response = await fetch("control", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ action, ...settings }),
      });
      const body = await response.json();
      if (!response.ok) {
        byId("error").textContent = body.error;
        shownConfig = ""; // put the controls back to the session's settings
        if (frame) showControls();
        return;
      }
      show(body);
    } catch (error) {
      byId("error").textContent = `the server does not answer (${error.message})`;
    }
  }

  function hiddenWidths(text) {
    const trimmed = text.trim();
    if (trimmed === "" || trimmed === "0") return [];
    return trimmed
      .split(",")
      .map((part) => (/^\s*\d+\s*$/.test(part) ? Number(part) : part.trim()));
  }

  function live() {
    byId("play").addEventListener("click", playOrPause);
    byId("step-example").addEventListener("click", () => control("step_example"));
    byId("step-epoch").addEventListener("click", () => control("step_epoch"));
    byId("reset").addEventListener("click", () => control("reset"));
    byId("dataset").addEventListener("change", (e) =>
      control("configure", { dataset: e.target.value }),
    );
    byId("hidden").addEventListener("change", (e) =>
      control("configure", { hidden: hiddenWidths(e.target.value) }),
    );
    byId("activation").addEventListener("change", (e) =>
      control("configure", { activation: e.target.value }),
    );
    byId("lr").addEventListener("change", (e) =>
      control("configure", { lr: Number(e.target.value) }),
    );
    byId("mode").addEventListener("change", (e) =>
      control("configure", { online: e.target.value === "online" }),
    );
    byId("seed").addEventListener("change", (e) =>
      control("configure", { seed: Number(e.target.value) }),
    );
    byId("boundary").addEventListener("click", pickPoint);
    const events = new EventSource("events");
    events.onmessage = (event) => receive(JSON.parse(event.data));
    events.onerror = () => {
      byId("state").textContent = "disconnected: is tinygrad-bp watch still running?";
    };
  }

  function replay() {
    byId("controls").hidden = true;
    byId("replay").hidden = false;
    const slider = byId("slider");
    const frames = recording.frames;
    slider.max = String(frames.length - 1);
    byId("replay-title").textContent = recording.title;
    byId("pick-note").textContent = "the ringed point is the example explained";
    const at = (index) => {
      show({
        ...frames[index],
        points: recording.points,
        curve: recording.curve,
        extent: recording.extent,
        config: recording.config,
      });
      byId("frame-label").textContent =
        `frame ${index + 1} of ${frames.length}: epoch ${frames[index].epoch}`;
    };
    slider.addEventListener("input", () => at(Number(slider.value)));
    slider.value = String(frames.length - 1);
    at(frames.length - 1);
  }

  byId("network").addEventListener("pointerdown", pick);
  if (recording) replay();
  else live();
})();
