/* dzbuild-viewer.js: one OpenSeadragon viewer for one Deep Zoom image, as dzbuild's pages and embeds use it.
 *
 * DzbuildViewer.create(element, dziUrl, settings) returns the OpenSeadragon viewer. settings:
 *   prefixUrl   OpenSeadragon's button images (required)
 *   options     OpenSeadragon options that win over dzbuild's (the site's [viewer] options)
 *   label       the accessible name of the picture (the image's title)
 *   fullscreen  the element the full-screen button shows full screen (default: the viewer's element)
 * Every element with class "dzv" and a data-dzi attribute (see templates/_viewer.html) is mounted
 * on load. The element's data-state follows the viewer: loading, open, loaded or failed.
 */
(function () {
  "use strict";
  const BUTTONS = {
    zoomInButton: "Zoom in",
    zoomOutButton: "Zoom out",
    homeButton: "Show the whole image",
    fullPageButton: "Full screen",
  };
  const KEYS = "Arrow keys or W A S D pan, = and - zoom, 0 shows the whole image";

  function create(element, dziUrl, settings) {
    const viewer = OpenSeadragon(Object.assign({
      element: element,
      tileSources: dziUrl,
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
    const target = settings.fullscreen || element;
    if (viewer.fullPageButton) {
      viewer.fullPageButton.removeAllHandlers("release");  // full screen for `target`, not OpenSeadragon's full page
      viewer.fullPageButton.addHandler("release", function () { toggleFullscreen(target); });
    }
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

  // Element full screen where the browser has it; a fixed full-window box elsewhere (iPhone Safari).
  function toggleFullscreen(target) {
    if (document.fullscreenElement) { document.exitFullscreen(); return; }
    if (target.requestFullscreen && !target.classList.contains("dzv-full")) {
      target.requestFullscreen().catch(function () { target.classList.toggle("dzv-full"); });
    } else {
      target.classList.toggle("dzv-full");
    }
  }

  function mountAll() {
    document.querySelectorAll(".dzv[data-dzi]").forEach(function (element) {
      if (element.dzbuildViewer) { return; }
      element.dzbuildViewer = create(element, element.dataset.dzi, {
        prefixUrl: element.dataset.prefix,
        options: JSON.parse(element.dataset.options || "{}"),
        label: element.getAttribute("aria-label"),
      });
    });
  }

  window.DzbuildViewer = {create: create, nameControls: nameControls, toggleFullscreen: toggleFullscreen, mountAll: mountAll};
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", mountAll); } else { mountAll(); }
})();
