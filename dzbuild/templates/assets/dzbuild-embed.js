/* Starts OpenSeadragon on every [data-dzbuild] element of the page (markup: templates/_embed.html).
   OpenSeadragon is loaded once per page, however many viewers it has. Material for MkDocs replaces
   the page on instant navigation and announces it on its document$ observable: the viewers of the
   new page start then, and the viewers of the page left behind are destroyed. */
(function () {
  "use strict";
  if (window.dzbuildEmbed) { return; }  // a page that includes the script twice runs it once
  var loading = null;
  var viewers = [];

  function loadOpenSeadragon(config) {
    if (window.OpenSeadragon) { return Promise.resolve(window.OpenSeadragon); }
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = config.script;
        if (config.integrity) { script.integrity = config.integrity; script.crossOrigin = "anonymous"; }
        script.onload = function () { resolve(window.OpenSeadragon); };
        script.onerror = function () { loading = null; reject(new Error("cannot load " + config.script)); };
        document.head.appendChild(script);
      });
    }
    return loading;
  }

  function opened(element, viewer) {
    var thumbnail = element.querySelector(":scope > img");
    if (thumbnail) { thumbnail.remove(); }
    element.dataset.state = "open";
    var item = viewer.world.getItemAt(0);
    var done = function () { element.dataset.state = "loaded"; };
    if (item.getFullyLoaded()) { done(); } else { item.addOnceHandler("fully-loaded-change", done); }
  }

  function start(element) {
    if (element.dataset.state !== "thumbnail") { return; }
    element.dataset.state = "starting";
    var config = JSON.parse(element.getAttribute("data-dzbuild"));
    loadOpenSeadragon(config).then(function (OpenSeadragon) {
      var viewer = OpenSeadragon(Object.assign({
        element: element,
        prefixUrl: config.prefixUrl,
        tileSources: config.tileSources,
        crossOriginPolicy: "Anonymous"
      }, config.options || {}));
      element.dzbuildViewer = viewer;
      viewers.push(viewer);
      viewer.addHandler("open", function () { opened(element, viewer); });
      viewer.addHandler("open-failed", function () { element.dataset.state = "failed"; });
    }, function (error) {
      element.dataset.state = "failed";
      console.error("dzbuild: " + error.message);
    });
  }

  function startAll() {
    viewers = viewers.filter(function (viewer) {
      if (viewer.element && viewer.element.isConnected) { return true; }
      viewer.destroy();  // its page was replaced by an instant navigation
      return false;
    });
    document.querySelectorAll("[data-dzbuild]").forEach(start);
  }

  window.dzbuildEmbed = {start: startAll};
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(startAll);  // Material: every page load, the first included
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", startAll);
  } else {
    startAll();
  }
})();
