/* Starts an OpenSeadragon viewer in every <figure data-dzbuild="DESCRIPTOR_URL"> of the page.
 *
 * The figure holds a thumbnail <img>: with JavaScript off (or before this runs) that picture is
 * the page's image. OpenSeadragon must be loaded first (one <script> per page, however many
 * viewers). dzbuildEmbed(root) starts the viewers below root and skips the ones already started,
 * so themes with in-page navigation can call it again. Each figure's data-dzbuild-state says how
 * far it got: loading, open, loaded or failed.
 */
(function () {
  "use strict";

  function prefixUrl(figure) {
    if (figure.dataset.dzbuildPrefix) { return figure.dataset.dzbuildPrefix; }
    var scripts = document.querySelectorAll("script[src*='openseadragon']");
    for (var i = 0; i < scripts.length; i++) {
      var src = scripts[i].getAttribute("src");
      if (/openseadragon(\.min)?\.js(\?.*)?$/.test(src)) { return src.replace(/[^/]*$/, "images/"); }
    }
    return undefined;
  }

  function start(figure) {
    var width = Number(figure.dataset.dzbuildWidth), height = Number(figure.dataset.dzbuildHeight);
    var element = document.createElement("div");
    element.className = "dzbuild-viewer";
    element.style.width = "100%";
    if (width && height) { element.style.aspectRatio = width + " / " + height; }
    var picture = figure.querySelector("img");
    figure.insertBefore(element, picture || figure.firstChild);
    if (picture) { picture.hidden = true; }
    figure.dataset.dzbuildState = "loading";
    var viewer = OpenSeadragon({
      element: element,
      tileSources: figure.dataset.dzbuild,
      prefixUrl: prefixUrl(figure),
      showNavigator: false,
      crossOriginPolicy: "Anonymous"
    });
    viewer.addHandler("open", function () {
      figure.dataset.dzbuildState = "open";
      var item = viewer.world.getItemAt(0);
      var done = function () { figure.dataset.dzbuildState = "loaded"; };
      if (item.getFullyLoaded()) { done(); } else { item.addOnceHandler("fully-loaded-change", done); }
    });
    viewer.addHandler("open-failed", function () {
      figure.dataset.dzbuildState = "failed";
      element.remove();
      if (picture) { picture.hidden = false; }
    });
    return viewer;
  }

  function dzbuildEmbed(root) {
    if (typeof OpenSeadragon === "undefined") { return []; }
    var started = [];
    (root || document).querySelectorAll("[data-dzbuild]").forEach(function (figure) {
      if (figure.dataset.dzbuildState) { return; }
      var viewer = start(figure);
      window.dzbuildViewers.push(viewer);
      started.push(viewer);
    });
    return started;
  }

  window.dzbuildViewers = window.dzbuildViewers || [];
  window.dzbuildEmbed = dzbuildEmbed;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { dzbuildEmbed(); });
  } else {
    dzbuildEmbed();
  }
})();
