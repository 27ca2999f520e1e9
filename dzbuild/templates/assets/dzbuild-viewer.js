/* dzbuild-viewer.js: the one OpenSeadragon set-up of every dzbuild page and every embed.
 *
 * DzbuildViewer.create(element, tileSource, settings) returns the OpenSeadragon viewer. settings:
 *   prefixUrl   OpenSeadragon's button images (required)
 *   options     OpenSeadragon options that win over dzbuild's (the site's [viewer] options)
 *   label       the accessible name of the picture (the image's title)
 *   fullscreen  the element the full-screen button shows full screen (default: the viewer's element)
 * The image and collection pages (dzbuild-image.js, dzbuild-collection.js) call it after loading
 * OpenSeadragon themselves. Embeds (templates/_embed.html: an element with data-dzbuild, holding
 * {tileSources, prefixUrl, options}) need only this script: it loads OpenSeadragon once per page, from
 * the data-openseadragon attribute of its own <script> element (resolved against the script's URL,
 * with data-integrity for a CDN), never from the embed's data, and starts every embed. The element's
 * data-state follows the viewer: loading, open, loaded or failed. Material for MkDocs replaces the page
 * on instant navigation and announces it on its document$ observable: the embeds of the new page start
 * then, and those of the page left behind are destroyed.
 */
(function () {
  "use strict";
  if (window.DzbuildViewer) { return; }  // a page that includes the script twice runs it once
  const BUTTONS = {
    zoomInButton: "Zoom in",
    zoomOutButton: "Zoom out",
    homeButton: "Show the whole image",
    fullPageButton: "Full screen",
  };
  const KEYS = "Arrow keys or W A S D pan, = and - zoom, 0 shows the whole image";
  const FULL_WINDOW = ".dzv-full { position: fixed !important; inset: 0; z-index: 1000; width: auto !important;"
    + " height: auto !important; max-width: none !important; margin: 0 !important; }";
  const script = document.currentScript;
  let loading = null;
  let embeds = [];

  function create(element, tileSource, settings) {
    const viewer = OpenSeadragon(Object.assign({
      element: element,
      tileSources: tileSource,
      prefixUrl: settings.prefixUrl,
      showNavigator: true,
      navigatorPosition: "BOTTOM_RIGHT",
      navigationControlAnchor: OpenSeadragon.ControlAnchor.TOP_RIGHT,
      crossOriginPolicy: "Anonymous",
      preserveViewport: true,  // opening another version keeps the view: the same spot, compared
      visibilityRatio: 0.5,
      autoHideControls: false,
      navigatorBackground: "rgba(0, 0, 0, 0.3)",  // the controls stay in sight, also on touch screens
    }, settings.options || {}));
    trackState(viewer, element);
    const explicit = settings.options && (settings.options.navigatorWidth || settings.options.navigatorHeight);
    if (viewer.navigator && !explicit) { viewer.addOnceHandler("open", function () { fitNavigator(viewer); }); }
    nameControls(viewer, settings.label || "image");
    fullscreenButton(viewer, settings.fullscreen || element);
    return viewer;
  }

  // data-state on the element: tests and pages wait for "loaded" (every tile in view drawn).
  function trackState(viewer, element) {
    element.dataset.state = "loading";
    viewer.addHandler("open", function () {
      element.dataset.state = "open";
      const item = viewer.world.getItemAt(0);
      const done = function () { element.dataset.state = "loaded"; };
      if (item.getFullyLoaded()) { done(); } else { item.addOnceHandler("fully-loaded-change", done); }
    });
    viewer.addHandler("open-failed", function () { element.dataset.state = "failed"; });
  }

  // The overview takes the image's shape (OpenSeadragon's takes the viewer's: tall on a phone).
  function fitNavigator(viewer) {
    const size = viewer.world.getItemAt(0).getContentSize(), box = viewer.container;
    const side = Math.max(90, Math.min(180, 0.28 * Math.min(box.clientWidth, box.clientHeight)));
    const scale = side / Math.max(size.x, size.y);
    viewer.navigator.setWidth(Math.round(size.x * scale));
    viewer.navigator.setHeight(Math.round(size.y * scale));
  }

  // OpenSeadragon's buttons are divs with a tooltip: give each a role, a name and the keyboard.
  function nameControls(viewer, label) {
    viewer.canvas.setAttribute("role", "application");  // it takes the keys below
    viewer.canvas.setAttribute("aria-roledescription", "zoomable image");
    viewer.canvas.setAttribute("aria-label", label + ". " + KEYS);
    Object.keys(BUTTONS).forEach(function (key) {
      const button = viewer[key];
      if (!button) { return; }
      const el = button.element;
      el.setAttribute("role", "button");
      el.setAttribute("tabindex", "0");
      el.setAttribute("aria-label", BUTTONS[key]);
      el.addEventListener("keydown", function (event) {
        if (event.key !== "Enter" && event.key !== " ") { return; }
        event.preventDefault();
        press(viewer, key);
      });
    });
    if (viewer.navigator) {
      viewer.navigator.element.setAttribute("aria-label", "Overview of the image: click to move there");
      viewer.navigator.element.setAttribute("role", "img");
    }
  }

  function press(viewer, key) {
    const step = viewer.zoomPerClick || 2;
    if (key === "zoomInButton") { viewer.viewport.zoomBy(step); }
    if (key === "zoomOutButton") { viewer.viewport.zoomBy(1 / step); }
    if (key === "homeButton") { viewer.viewport.goHome(); }
    if (key === "fullPageButton") { viewer.fullPageButton.raiseEvent("release", {}); return; }
    viewer.viewport.applyConstraints();
  }

  // Full screen for `target`, not OpenSeadragon's full page (which hides the rest of the page's own markup).
  function fullscreenButton(viewer, target) {
    if (!viewer.fullPageButton) { return; }
    viewer.fullPageButton.removeAllHandlers("release");
    viewer.fullPageButton.addHandler("release", function () { toggleFullscreen(target); });
  }

  // Element full screen where the browser has it; a fixed full-window box elsewhere (iPhone Safari).
  function toggleFullscreen(target) {
    if (document.fullscreenElement) { document.exitFullscreen(); return; }
    if (!document.getElementById("dzv-full-style")) {
      const style = document.createElement("style");
      style.id = "dzv-full-style";
      style.textContent = FULL_WINDOW;
      document.head.appendChild(style);
    }
    if (target.requestFullscreen && !target.classList.contains("dzv-full")) {
      target.requestFullscreen().catch(function () { target.classList.toggle("dzv-full"); });
    } else {
      target.classList.toggle("dzv-full");
    }
  }

  // -- Embeds ----------------------------------------------------------------------------------------------
  function loadOpenSeadragon() {
    if (window.OpenSeadragon) { return Promise.resolve(window.OpenSeadragon); }
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        const wanted = script && script.getAttribute("data-openseadragon");
        if (!wanted) { reject(new Error("the dzbuild-viewer.js <script> element names no data-openseadragon")); return; }
        const element = document.createElement("script");
        element.src = new URL(wanted, script.src).href;
        const integrity = script.getAttribute("data-integrity");
        if (integrity) { element.integrity = integrity; element.crossOrigin = "anonymous"; }
        element.onload = function () { resolve(window.OpenSeadragon); };
        element.onerror = function () { loading = null; reject(new Error("cannot load " + element.src)); };
        document.head.appendChild(element);
      });
    }
    return loading;
  }

  function startEmbed(element) {
    if (element.dataset.state !== "thumbnail") { return; }
    element.dataset.state = "starting";
    const settings = JSON.parse(element.getAttribute("data-dzbuild"));
    loadOpenSeadragon().then(function () {
      const viewer = create(element, settings.tileSources, {
        prefixUrl: settings.prefixUrl, options: settings.options, label: element.getAttribute("aria-label"),
      });
      viewer.addOnceHandler("open", function () {
        const thumbnail = element.querySelector(":scope > img");
        if (thumbnail) { thumbnail.remove(); }
      });
      element.dzbuildViewer = viewer;
      embeds.push(viewer);
    }, function (error) {
      element.dataset.state = "failed";
      console.error("dzbuild: " + error.message);
    });
  }

  function startEmbeds() {
    embeds = embeds.filter(function (viewer) {
      if (viewer.element && viewer.element.isConnected) { return true; }
      viewer.destroy();  // its page was replaced by an instant navigation
      return false;
    });
    document.querySelectorAll("[data-dzbuild]").forEach(startEmbed);
  }

  window.DzbuildViewer = {create: create};
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(startEmbeds);  // Material: every page load, the first included
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", startEmbeds);
  } else {
    startEmbeds();
  }
})();
