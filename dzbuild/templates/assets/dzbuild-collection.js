/* dzbuild-collection.js: the collection page (templates/collection.html). Zoomed out, OpenSeadragon shows
 * the collection's shared tiles (levels 0..MaxLevel of the .dzc, laid out as one big Morton-grid image),
 * so every thumbnail costs a handful of requests; zoomed in past the shared levels, each visible item opens
 * its own DZI exactly over its thumbnail. The gallery under the viewer uses the same shared tiles as CSS
 * sprites. The page holds its settings as JSON in #dzbuild-collection: descriptor (the latest .dzc relative
 * to the page, or null until built), items (until built: {dzi, ...} of this page, in declared order; empty
 * once built, as the .dzc lists every item), title, prefixUrl and options.
 */
(function () {
  "use strict";
  var NS = "http://schemas.microsoft.com/deepzoom/2008";
  var SPRITE_LEVEL = 6;  // 64 px thumbnails, 16 to a 256 px tile
  var MAX_OPEN = 24;     // item DZIs open at once when zoomed in
  var SHARED_MIN_PIXEL_RATIO = 0.75;
  var element = document.getElementById("viewer");
  var page = JSON.parse(document.getElementById("dzbuild-collection").textContent);

  // -- Morton layout: the column takes the even bits of N, the row the odd bits -----------------
  function mortonToXY(n) {
    var col = 0, row = 0;
    for (var bit = 1; n > 0; bit *= 2, n = Math.floor(n / 4)) {
      col += (n % 2) * bit;
      row += (Math.floor(n / 2) % 2) * bit;
    }
    return [col, row];
  }
  function xyToMorton(col, row) {
    var n = 0;
    for (var weight = 1; col > 0 || row > 0; weight *= 4, col = Math.floor(col / 2), row = Math.floor(row / 2)) {
      n += ((col % 2) + 2 * (row % 2)) * weight;
    }
    return n;
  }
  function levelSize(width, height, level) {  // an item's own DZI level min(level, its max level)
    var top = 0;
    while (Math.pow(2, top) < Math.max(width, height)) { top++; }
    var scale = Math.pow(2, Math.max(0, top - level));
    return [Math.ceil(width / scale), Math.ceil(height / scale)];
  }

  // -- The descriptor, read as any Deep Zoom Collection --------------------------------------------
  function parseCollection(text, url) {
    var root = new DOMParser().parseFromString(text, "application/xml").documentElement;
    if (root.localName !== "Collection" || root.namespaceURI !== NS) { throw new Error(url + " is not a Deep Zoom Collection"); }
    var c = {
      maxLevel: +root.getAttribute("MaxLevel"), tileSize: +root.getAttribute("TileSize"),
      format: root.getAttribute("Format"), filesUrl: url.replace(/\.[^.\/]*$/, "") + "_files/",
      items: [], byN: new Map(), cols: 1, rows: 1
    };
    Array.prototype.forEach.call(root.getElementsByTagNameNS(NS, "I"), function (el) {
      var size = el.getElementsByTagNameNS(NS, "Size")[0];
      var n = +el.getAttribute("N"), xy = mortonToXY(n);
      var item = {id: +el.getAttribute("Id"), n: n, col: xy[0], row: xy[1],
                  width: +size.getAttribute("Width"), height: +size.getAttribute("Height"),
                  source: new URL(el.getAttribute("Source"), url).href};
      c.items.push(item);
      c.byN.set(n, item);
      c.cols = Math.max(c.cols, item.col + 1);
      c.rows = Math.max(c.rows, item.row + 1);
    });
    c.cell = Math.pow(2, c.maxLevel);  // a cell's side at the deepest shared level, in pixels
    c.unit = 1 / c.cols;               // a cell's side in viewport units (the grid is 1 wide)
    return c;
  }

  function tileUrl(c, level, col, row) { return c.filesUrl + level + "/" + col + "_" + row + "." + c.format; }

  // The shared levels as one image of cols x rows cells; tiles holding no live item are never asked for.
  function sharedTileSource(c) {
    var live = [];
    for (var level = 0; level <= c.maxLevel; level++) {
      var perTile = Math.pow(c.tileSize / Math.pow(2, level), 2), tiles = new Set();
      c.items.forEach(function (item) { tiles.add(Math.floor(item.n / perTile)); });
      live.push(tiles);
    }
    return new OpenSeadragon.TileSource({
      width: c.cols * c.cell, height: c.rows * c.cell, tileSize: c.tileSize, tileOverlap: 0,
      minLevel: 0, maxLevel: c.maxLevel,
      getTileUrl: function (level, x, y) { return tileUrl(c, level, x, y); },
      tileExists: function (level, x, y) { return level <= c.maxLevel && live[level].has(xyToMorton(x, y)); }
    });
  }

  function itemRect(c, item) {  // where the item's thumbnail lies, in viewport units
    var size = levelSize(item.width, item.height, c.maxLevel);
    var scale = c.unit / c.cell;
    return new OpenSeadragon.Rect(item.col * c.unit, item.row * c.unit, size[0] * scale, size[1] * scale);
  }

  // The shared tiles are black where no item lies: one SVG path covers the grid but the items' thumbnails.
  function cellMask(c) {
    var NS = "http://www.w3.org/2000/svg", svg = document.createElementNS(NS, "svg"), path = document.createElementNS(NS, "path");
    var d = ["M-1 -1H" + (c.cols + 1) + "V" + (c.rows + 1) + "H-1Z"];  // a cell wider on every side: no seam at the edge
    c.items.forEach(function (item) {
      var r = itemRect(c, item);
      d.push("M" + r.x / c.unit + " " + r.y / c.unit + "h" + r.width / c.unit + "v" + r.height / c.unit + "h" + (-r.width / c.unit) + "Z");
    });
    svg.setAttribute("viewBox", "-1 -1 " + (c.cols + 2) + " " + (c.rows + 2));
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("class", "cell-mask");
    svg.setAttribute("aria-hidden", "true");
    path.setAttribute("fill-rule", "evenodd");
    path.setAttribute("d", d.join(""));
    svg.appendChild(path);
    return svg;
  }

  // -- Zoomed in: open the visible items' own DZIs over their thumbnails --------------------------
  function ItemLayer(viewer, c) {
    var opened = new Map();  // N -> {image: TiledImage or null while loading}
    function wantedItems() {
      var cellPx = viewer.viewport.deltaPixelsFromPointsNoRotate(new OpenSeadragon.Point(c.unit, 0), true).x;
      var wanted = new Map();
      if (cellPx <= c.cell * (opened.size ? 0.75 : 1)) { return wanted; }  // the shared tiles are sharp enough
      var b = viewer.viewport.getBounds(true);
      var c0 = Math.max(0, Math.floor(b.x / c.unit)), c1 = Math.min(c.cols - 1, Math.floor((b.x + b.width) / c.unit));
      var r0 = Math.max(0, Math.floor(b.y / c.unit)), r1 = Math.min(c.rows - 1, Math.floor((b.y + b.height) / c.unit));
      for (var row = r0; row <= r1; row++) {
        for (var col = c0; col <= c1 && wanted.size < MAX_OPEN; col++) {
          var item = c.byN.get(xyToMorton(col, row));
          if (item) { wanted.set(item.n, item); }
        }
      }
      return wanted;
    }
    function open(item) {
      var entry = {image: null};
      opened.set(item.n, entry);
      var rect = itemRect(c, item);
      viewer.addTiledImage({
        tileSource: item.source, x: rect.x, y: rect.y, width: rect.width,
        success: function (event) {
          if (opened.get(item.n) === entry) { entry.image = event.item; } else { viewer.world.removeItem(event.item); }
        },
        error: function () { entry.failed = true; }
      });
    }
    this.update = function () {
      var wanted = wantedItems();
      opened.forEach(function (entry, n) {
        if (!wanted.has(n)) {
          if (entry.image) { viewer.world.removeItem(entry.image); }
          opened.delete(n);
        }
      });
      wanted.forEach(function (item, n) { if (!opened.has(n)) { open(item); } });
    };
    this.opened = function () { return Array.from(opened.keys()); };
    this.loaded = function () {
      return Array.from(opened.values()).every(function (e) { return e.failed || (e.image && e.image.getFullyLoaded()); });
    };
  }

  // -- The gallery: thumbnails as sprites cut from the shared tiles --------------------------------
  function showSprites(c, viewer) {
    var level = Math.min(SPRITE_LEVEL, c.maxLevel), perSide = c.tileSize / Math.pow(2, level);
    var bySource = new Map(c.items.map(function (item) { return [item.source, item]; }));
    document.querySelectorAll(".dzc-sprite[data-dzi]").forEach(function (el) {
      var item = bySource.get(new URL(el.dataset.dzi, location.href).href);
      if (!item) { return; }
      var size = levelSize(item.width, item.height, level);
      var x = (item.col % perSide) * Math.pow(2, level), y = (item.row % perSide) * Math.pow(2, level);
      var url = tileUrl(c, level, Math.floor(item.col / perSide), Math.floor(item.row / perSide));
      el.style.background = "url(\"" + url + "\") -" + x + "px -" + y + "px no-repeat";
      el.style.width = size[0] + "px";
      el.style.height = size[1] + "px";
      el.dataset.n = item.n;
      el.addEventListener("click", function (event) {
        event.preventDefault();
        viewer.viewport.fitBounds(itemRect(c, item).times(1.05));
      });
    });
  }

  function start(c) {
    var shared = sharedTileSource(c);
    var viewer = open(shared, {
      // deep enough for the largest item's full resolution once its own DZI is open
      maxZoomPixelRatio: Math.max.apply(null, [1.1].concat(c.items.map(function (i) {
        return 2 * Math.max(i.width, i.height) / c.cell;
      })))
    });
    viewer.world.addHandler("add-item", function (event) {
      // OpenSeadragon's default (0.5) fetches the deepest shared level, one item per tile, as soon as it
      // is shown at half size; 0.75 keeps a zoomed-out view on the levels whose tiles are shared.
      if (event.item.source === shared) { event.item.minPixelRatio = SHARED_MIN_PIXEL_RATIO; }
    });
    viewer.addOverlay({element: cellMask(c), location: new OpenSeadragon.Rect(-c.unit, -c.unit, 1 + 2 * c.unit, (c.rows + 2) * c.unit)});
    var layer = new ItemLayer(viewer, c);
    var pending = null;
    var schedule = function () { clearTimeout(pending); pending = setTimeout(layer.update, 120); };
    viewer.addHandler("viewport-change", schedule);
    viewer.addHandler("animation-finish", function () { clearTimeout(pending); layer.update(); });
    showSprites(c, viewer);
    window.dzbuildViewer = viewer;
    window.dzbuildCollection = {
      collection: c, items: layer.opened, itemsLoaded: layer.loaded,
      rect: function (n) { return itemRect(c, c.byN.get(n)); }
    };
  }

  // Not built yet: every member's own DZI side by side (OpenSeadragon's collection mode).
  function startWithoutDescriptor() {
    var sources = page.items.map(function (item) { return item.dzi; });
    window.dzbuildViewer = open(sources, {collectionMode: true,
      collectionRows: Math.max(1, Math.round(Math.sqrt(sources.length)))});
  }

  // dzbuild's viewer (named controls, keyboard, full screen, data-state), without the overview.
  function open(tileSource, options) {
    return DzbuildViewer.create(element, tileSource, {
      prefixUrl: page.prefixUrl, label: page.title,
      options: Object.assign({showNavigator: false}, options, page.options),
    });
  }

  if (!page.descriptor) { startWithoutDescriptor(); return; }
  var url = new URL(page.descriptor, location.href).href;
  fetch(url).then(function (response) {
    if (!response.ok) { throw new Error(url + ": HTTP " + response.status); }
    return response.text();
  }).then(function (text) { start(parseCollection(text, url)); }).catch(function (error) {
    element.dataset.state = "failed";
    element.textContent = String(error);
  });
})();
