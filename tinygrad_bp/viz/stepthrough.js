// Replays the reverse sweep on the one picture of the page: step k colours the
// record finalised at step k gold, the earlier ones green, and shows the gradients
// their edges have carried. The data (steps, captions, grads, edges, colours) comes
// from the page's "sweep" script element, written by tinygrad_bp.viz.render_backward.
(function () {  // a function scope: the page defines no global names
  "use strict";
  const sweep = JSON.parse(document.getElementById("sweep").textContent);
  const colours = sweep.colours;
  const last = sweep.steps.length;
  const slider = document.getElementById("slider");
  const position = document.getElementById("position");
  const caption = document.getElementById("caption");
  const zoom = document.getElementById("zoom");
  const picture = document.querySelector("main svg");
  const area = document.querySelector("main");
  const stepOf = {};  // record id -> the step that finalises it (1-based)
  sweep.steps.forEach(function (id, index) {
    stepOf[id] = index + 1;
  });

  function shown() {
    return Number(document.body.dataset.frame);
  }

  function paintRecord(id, step) {
    const group = document.getElementById(id);
    const when = stepOf[id];
    const fill = when === step ? colours.current : when < step ? colours.done : colours.waiting;
    group.querySelector("polygon").setAttribute("fill", fill);
    group.querySelector("polygon").setAttribute("stroke-width", when === step ? "2" : "1");
    const texts = group.querySelectorAll("text");
    texts[texts.length - 1].textContent = when <= step ? sweep.grads[id] : sweep.notComputed;
  }

  function paintEdge(id, step) {
    const group = document.getElementById(id);
    const when = stepOf[sweep.edges[id]];
    const colour = when === step ? colours.sending : when < step ? colours.sent : colours.idle;
    group.querySelectorAll("path, polygon").forEach(function (shape) {
      shape.setAttribute("stroke", colour);
      shape.setAttribute("stroke-width", when === step ? "2" : "1");
    });
    group.querySelectorAll("polygon").forEach(function (shape) {
      shape.setAttribute("fill", colour);
    });
    group.querySelectorAll("text").forEach(function (text) {
      text.setAttribute("fill", colour === colours.idle ? "grey" : colour);
      const carried = text.textContent.startsWith("sent ");
      text.setAttribute("visibility", carried && !(when <= step) ? "hidden" : "visible");
    });
  }

  function show(step) {
    const current = Math.max(0, Math.min(last, step));
    Object.keys(stepOf).forEach(function (id) {
      paintRecord(id, current);
    });
    Object.keys(sweep.edges).forEach(function (id) {
      paintEdge(id, current);
    });
    slider.value = String(current);
    position.textContent = "step " + current + " of " + last;
    caption.textContent = sweep.captions[current];
    document.body.dataset.frame = String(current);
    if (last > 0) {  // keep the highlighted record (at the start, the root) in view
      const followed = document.getElementById(sweep.steps[Math.max(0, current - 1)]);
      followed.scrollIntoView({block: "nearest", inline: "center"});
    }
    if (location.hash !== "#frame=" + current) {
      location.replace("#frame=" + current);
    }
  }

  function showFromAddress() {
    const match = /^#frame=(\d+)$/.exec(location.hash);
    show(match ? Number(match[1]) : 0);
  }

  document.getElementById("previous").addEventListener("click", function () {
    show(shown() - 1);
  });
  document.getElementById("next").addEventListener("click", function () {
    show(shown() + 1);
  });
  // Zoom: "height" fills the window's height (scrolling sideways, following the
  // highlighted record), "whole" fits all of it, "actual" is Graphviz's own size.
  // Never larger than actual size; the first choice is the largest that stays legible.
  const PX_PER_PT = 96 / 72;
  const SCROLLBAR = 20;  // room kept for the sideways scroll bar
  function scaleFor(mode) {
    const box = picture.viewBox.baseVal;
    const room = {width: area.clientWidth - 4, height: area.clientHeight - SCROLLBAR};
    const height = room.height / box.height;
    const scales = {height: height, whole: Math.min(height, room.width / box.width)};
    return Math.min(PX_PER_PT, mode in scales ? scales[mode] : PX_PER_PT);
  }
  function fit() {
    const box = picture.viewBox.baseVal;
    const scale = scaleFor(zoom.value);
    picture.setAttribute("width", String(box.width * scale));
    picture.setAttribute("height", String(box.height * scale));
    show(shown());
  }
  zoom.value = scaleFor("height") >= 0.5 * PX_PER_PT ? "height" : "actual";
  zoom.addEventListener("change", fit);
  window.addEventListener("resize", fit);
  slider.addEventListener("input", function () {
    show(Number(slider.value));
  });
  document.addEventListener("keydown", function (event) {
    if (event.target === slider) {
      return;  // the slider moves itself with the arrow keys
    }
    const moves = {ArrowLeft: shown() - 1, ArrowRight: shown() + 1, Home: 0, End: last};
    if (event.key in moves) {
      event.preventDefault();
      show(moves[event.key]);
    }
  });
  window.addEventListener("hashchange", showFromAddress);
  showFromAddress();
  fit();
})();
