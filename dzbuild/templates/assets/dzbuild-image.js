/* dzbuild-image.js: the image page. One version, or two compared (swipe or side by side), with the
 * view in the URL and the tiles a version changed outlined from dzbuild's records.
 *
 * The page holds its settings as JSON in #dzbuild-image (see image.html). The URL hash holds the
 * state: v (the version shown; absent for the latest, so that a reload after a new version is
 * published shows the new one, while a chosen older version stays), x and y (the view's centre as
 * fractions of the image's width and height), z (zoom: 1 fits the image's width), and when
 * comparing: with (the other version), mode (swipe or side), split (the divider, 0..1) and changes
 * (1: outline the changed tiles).
 * Changing a version or the mode adds a history entry; moving the view replaces the current one.
 */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("dzbuild-image").textContent);
  const versions = new Map(config.versions.map(function (v) { return [v.number, v]; }));
  const latest = config.versions[config.versions.length - 1].number;
  const aspect = config.height / config.width;  // the image's height in OpenSeadragon viewport units
  const $ = function (id) { return document.getElementById(id); };
  const stage = $("stage"), divider = $("divider"), ui = {
    version: $("version"), compare: $("compare"), mode: $("mode"), changes: $("changes"), tools: $("compare-tools"),
  };
  const viewers = {a: make($("viewer"), "a"), b: null};  // a: the version shown; b: the one compared with
  let state = readHash(location.hash);
  let leader = viewers.a;  // the viewer the user moves; the other follows it

  function make(element, which) {
    const viewer = DzbuildViewer.create(element, null, {
      prefixUrl: config.prefixUrl, options: config.options, label: config.title, fullscreen: stage,
    });
    ["pointerdown", "wheel", "keydown", "touchstart"].forEach(function (type) {
      element.addEventListener(type, function () { leader = viewer; }, {capture: true, passive: true});
    });
    viewer.addHandler("viewport-change", function () { follow(viewer); });
    viewer.addHandler("animation-finish", function () { if (viewer === leader) { writeHash(false); } });
    viewer.addHandler("open", function () { viewer.dzbuildOutline = null; outline(); });  // open clears overlays
    element.dataset.which = which;
    return viewer;
  }

  // -- State <-> URL ---------------------------------------------------------------------------------
  function readHash(hash) {
    const p = new URLSearchParams(hash.replace(/^#/, ""));
    const number = function (key, fallback) { const n = parseFloat(p.get(key)); return isFinite(n) ? n : fallback; };
    const v = versions.has(number("v", NaN)) ? number("v") : latest;
    const other = number("with", NaN);
    const view = p.has("z") ? {x: number("x", 0.5), y: number("y", 0.5), z: Math.max(number("z", 1), 1e-6)} : null;
    return {
      v: v, with: versions.has(other) && other !== v ? other : null, mode: p.get("mode") === "side" ? "side" : "swipe",
      split: Math.min(1, Math.max(0, number("split", 0.5))), changes: p.get("changes") === "1", view: view,
    };
  }

  function hashOf(s) {
    const p = new URLSearchParams();
    if (s.v !== latest) { p.set("v", s.v); }
    if (s.with !== null) {
      p.set("with", s.with);
      p.set("mode", s.mode);
      if (s.mode === "swipe") { p.set("split", s.split.toFixed(3)); }
    }
    if (s.changes) { p.set("changes", "1"); }
    if (s.view) { p.set("x", s.view.x.toFixed(5)); p.set("y", s.view.y.toFixed(5)); p.set("z", s.view.z.toPrecision(5)); }
    const text = p.toString();
    return text ? "#" + text : "";  // "": the latest version, whole
  }

  function currentView() {
    const vp = viewers.a.viewport;
    if (!viewers.a.world.getItemCount()) { return state.view; }
    const centre = vp.getCenter(true);
    return {x: centre.x, y: centre.y / aspect, z: vp.getZoom(true)};
  }

  function writeHash(push) {
    state.view = currentView();
    const hash = hashOf(state);
    if (hash === location.hash) { return; }
    history[push ? "pushState" : "replaceState"](null, "", hash);
  }

  // -- Applying a state ---------------------------------------------------------------------------------
  function apply(next, push) {
    state = next;
    leader = viewers.a;  // a view from the URL is set on a; b follows
    if (ui.version) { ui.version.value = versions.get(state.v).url; }
    if (ui.compare) {
      ui.compare.value = state.with === null ? "" : String(state.with);
      Array.from(ui.compare.options).forEach(function (o) { o.disabled = o.value === String(state.v); });
    }
    if (ui.mode) { ui.mode.value = state.mode; }
    if (ui.changes) { ui.changes.checked = state.changes; }
    if (ui.tools) { ui.tools.hidden = state.with === null; }
    stage.dataset.mode = state.with === null ? "single" : state.mode;
    setSplit(state.split);
    show(viewers.a, state.v);
    if (state.with !== null) {
      viewers.b = viewers.b || make($("viewer-b"), "b");
      show(viewers.b, state.with);
    }
    labels();
    outline();
    if (state.view && viewers.a.world.getItemCount()) { setView(viewers.a, state.view); }
    if (push !== undefined) { writeHash(push); }
  }

  function show(viewer, number) {
    const version = versions.get(number);  // url: the picker's value; source: what OpenSeadragon opens
    if (viewer.dzbuildUrl === version.url) { return; }
    viewer.dzbuildUrl = version.url;
    viewer.open(version.source);
    viewer.addOnceHandler("open", function () {
      if (state.view) { setView(viewer, state.view); } else if (viewer !== viewers.a) { copyView(viewers.a, viewer); }
    });
  }

  function setView(viewer, view) {
    viewer.viewport.zoomTo(view.z, null, true);
    viewer.viewport.panTo(new OpenSeadragon.Point(view.x, view.y * aspect), true);
  }

  function copyView(from, to) {
    if (!to || !to.world.getItemCount()) { return; }
    to.viewport.zoomTo(from.viewport.getZoom(true), null, true);
    to.viewport.panTo(from.viewport.getCenter(true), true);
  }

  function follow(viewer) {
    if (viewer !== leader || state.with === null) { return; }
    copyView(viewer, viewer === viewers.a ? viewers.b : viewers.a);
  }

  function labels() {
    $("label-a").textContent = "v" + state.v;
    $("label-b").textContent = state.with === null ? "" : "v" + state.with;
    viewers.a.element.setAttribute("aria-label", config.title + ", version " + state.v);
    if (viewers.b) { viewers.b.element.setAttribute("aria-label", config.title + ", version " + state.with); }
  }

  // -- The swipe divider --------------------------------------------------------------------------------
  function setSplit(split) {
    state.split = split;
    const percent = (split * 100).toFixed(2) + "%";
    stage.style.setProperty("--split", percent);
    divider.setAttribute("aria-valuenow", Math.round(split * 100));
    divider.setAttribute("aria-valuetext", "v" + state.with + " left of " + Math.round(split * 100) + "%, v" + state.v + " right");
  }

  function dragDivider(event) {
    const box = stage.getBoundingClientRect();
    setSplit(Math.min(1, Math.max(0, (event.clientX - box.left) / box.width)));
  }

  divider.addEventListener("pointerdown", function (event) {
    divider.setPointerCapture(event.pointerId);
    dragDivider(event);
    event.preventDefault();
  });
  divider.addEventListener("pointermove", function (event) {
    if (divider.hasPointerCapture(event.pointerId)) { dragDivider(event); }
  });
  divider.addEventListener("pointerup", function () { writeHash(false); });
  divider.addEventListener("keydown", function (event) {
    const steps = {ArrowLeft: -0.02, ArrowDown: -0.02, ArrowRight: 0.02, ArrowUp: 0.02, PageDown: -0.1, PageUp: 0.1};
    let split = state.split;
    if (event.key in steps) { split += steps[event.key]; } else if (event.key === "Home") { split = 0; } else if (event.key === "End") { split = 1; } else { return; }
    event.preventDefault();
    setSplit(Math.min(1, Math.max(0, split)));
    writeHash(false);
  });

  // -- The changed-tile overlay ---------------------------------------------------------------------------
  const lists = new Map();  // changes URL -> Promise of its tiles
  function changesOf(number) {
    const url = versions.get(number).changes;
    if (!url) { return Promise.resolve([]); }
    if (!lists.has(url)) {
      lists.set(url, fetch(url).then(function (r) {
        if (!r.ok) { throw new Error(url + ": HTTP " + r.status); }
        return r.json();
      }).then(function (doc) { return doc.tiles; }));
    }
    return lists.get(url);
  }

  // Outline what the newer of the two versions shown changed since the older (since v{n-1} alone).
  function outline() {
    const older = state.with === null ? state.v - 1 : Math.min(state.v, state.with);
    const newer = state.with === null ? state.v : Math.max(state.v, state.with);
    const wanted = state.changes && newer > 0 ? older + ":" + newer : "";
    [viewers.a, viewers.b].forEach(function (viewer) {
      if (!viewer || viewer.dzbuildOutline === wanted) { return; }
      viewer.dzbuildOutline = wanted;
      viewer.clearOverlays();
      if (!wanted || !viewer.world.getItemCount()) { return; }
      changesOf(newer).then(function (tiles) {
        if (viewer.dzbuildOutline !== wanted) { return; }
        const svg = tileOutlines(tiles.filter(function (t) { return t[2] > older; }));
        svg.dataset.older = older;
        svg.dataset.newer = newer;
        viewer.addOverlay({element: svg, location: new OpenSeadragon.Rect(0, 0, 1, aspect)});
      }).catch(function (error) { console.warn(String(error)); });
    });
  }

  function tileOutlines(tiles) {
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 " + config.width + " " + config.height);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("class", "changed-tiles");
    svg.setAttribute("aria-hidden", "true");
    tiles.forEach(function (t) {
      const rect = document.createElementNS(NS, "rect"), size = config.tileSize;
      const x = t[0] * size, y = t[1] * size;
      rect.setAttribute("x", x);
      rect.setAttribute("y", y);
      rect.setAttribute("width", Math.min(size, config.width - x));
      rect.setAttribute("height", Math.min(size, config.height - y));
      rect.dataset.col = t[0];
      rect.dataset.row = t[1];
      rect.dataset.version = t[2];
      svg.appendChild(rect);
    });
    return svg;
  }

  // -- Controls ---------------------------------------------------------------------------------------------
  function edit(change, push) {
    const next = Object.assign({}, state, {view: currentView()}, change);
    if (next.with === next.v) { next.with = null; }
    apply(next, push);
  }
  if (ui.version) {
    ui.version.addEventListener("change", function () {
      const chosen = config.versions.find(function (v) { return v.url === ui.version.value; });
      edit({v: chosen.number}, true);
    });
  }
  if (ui.compare) {
    ui.compare.addEventListener("change", function () {
      edit({with: ui.compare.value === "" ? null : +ui.compare.value}, true);
    });
  }
  if (ui.mode) { ui.mode.addEventListener("change", function () { edit({mode: ui.mode.value}, true); }); }
  if (ui.changes) { ui.changes.addEventListener("change", function () { edit({changes: ui.changes.checked}, false); }); }
  window.addEventListener("popstate", function () { apply(readHash(location.hash)); });
  window.addEventListener("hashchange", function () { apply(readHash(location.hash)); });

  window.dzbuildViewer = viewers.a;
  window.dzbuildImage = {viewers: viewers, state: function () { return state; }, aspect: aspect};
  apply(state);
})();
