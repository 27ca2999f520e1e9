/* OpenSeadragon tile source for dzbuild's PMTiles packs (plugins/dzbuild-pmtiles, whose README
   describes the index). OpenSeadragon fetches a version's index.json like any descriptor; this
   source finds each tile's archive in it and reads the tile with npm's pmtiles (window.pmtiles).

   An archive is read by Range requests where the host answers them with 206. A host that answers
   with 200 and the whole file (Cloudflare Pages) gets one request per archive: the body is kept
   and every later read of that archive is a slice of it. */
(function (OSD, pmtiles) {
  "use strict";
  if (!OSD || !pmtiles) { return; }

  const KIND = "dzbuild-pmtiles";
  const TYPES = { jpg: "image/jpeg", png: "image/png", webp: "image/webp" };

  // One archive behind one URL, as pmtiles' Source: getBytes(offset, length) -> {data}.
  function ArchiveSource(url) {
    this.url = url;
    this.probe = null;  // the first read: tells whether the host serves ranges, and holds the body if not
  }
  ArchiveSource.prototype.getKey = function () { return this.url; };
  ArchiveSource.prototype.getBytes = function (offset, length, signal) {
    const self = this;
    const slice = function (whole) { return { data: whole.slice(offset, offset + length) }; };
    if (!self.probe) {
      self.probe = self.read(offset, length).then(function (answer) {
        return answer.whole ? { whole: answer.data } : { ranges: true, first: answer.data };
      });
      return self.probe.then(function (found) { return found.whole ? slice(found.whole) : { data: found.first }; });
    }
    return self.probe.then(function (found) {
      if (found.whole) { return slice(found.whole); }
      return self.read(offset, length, signal).then(function (answer) {
        return answer.whole ? slice(answer.data) : { data: answer.data };
      });
    });
  };
  ArchiveSource.prototype.read = function (offset, length, signal) {
    const url = this.url;
    const range = "bytes=" + offset + "-" + (offset + length - 1);
    return fetch(url, { headers: { Range: range }, signal: signal }).then(function (response) {
      if (response.status !== 206 && response.status !== 200) {
        throw new Error("HTTP " + response.status + " for " + url);
      }
      return response.arrayBuffer().then(function (data) { return { whole: response.status === 200, data: data }; });
    });
  };

  // Where tile (level, col, row) lives: the index's moved tiles first, else its 2x2 block's archive.
  function archiveOf(index, level, col, row, width) {
    const moved = index.tiles[level + "/" + col + "/" + row];
    if (moved !== undefined) { return moved; }
    const perRow = Math.ceil(width / index.block);
    return index.blocks[level][Math.floor(row / index.block) * perRow + Math.floor(col / index.block)];
  }

  // The index's archives, {version: [name, ...]}, as the URLs its positions number (versions in order).
  function archiveUrls(listed) {
    return Object.keys(listed).map(Number).sort(function (a, b) { return a - b; }).flatMap(function (version) {
      return listed[version].map(function (name) { return "../v" + version + "/" + name + ".pmtiles"; });
    });
  }

  OSD.DzbuildPackTileSource = function (options) {
    this.pack = options.pack;
    this.urls = archiveUrls(options.pack.archives);
    this.indexUrl = options.indexUrl;
    this.archives = {};
    OSD.TileSource.apply(this, [options]);
  };

  OSD.extend(OSD.DzbuildPackTileSource.prototype, OSD.TileSource.prototype, {
    supports: function (data) {
      return !!data && data.kind === KIND && data.layout === 1;
    },
    configure: function (data, url) {
      return {
        pack: data, indexUrl: new URL(url, window.location.href).href,
        width: data.width, height: data.height, tileSize: data.tile_size, tileOverlap: data.overlap,
        minLevel: data.min_level, maxLevel: data.max_level,
      };
    },
    getTileUrl: function (level, x, y) {  // the cache key: unique per version and tile
      return this.indexUrl + "#" + level + "/" + x + "/" + y;
    },
    archive: function (position) {
      if (!this.archives[position]) {
        const url = new URL(this.urls[position], this.indexUrl).href;
        this.archives[position] = new pmtiles.PMTiles(new ArchiveSource(url));
      }
      return this.archives[position];
    },
    downloadTileStart: function (context) {
      const where = context.src.slice(context.src.lastIndexOf("#") + 1).split("/").map(Number);
      const level = where[0], col = where[1], row = where[2];
      const columns = this.getNumTiles(level).x;
      const type = TYPES[this.pack.format] || "image/jpeg";
      const controller = new AbortController();
      context.userData.abort = controller;
      this.archive(archiveOf(this.pack, level, col, row, columns))
        .getZxy(level, col, row, controller.signal)
        .then(function (found) {
          if (!found) { context.fail("[dzbuild-pack] tile " + where.join("/") + " is in no archive", null); return; }
          context.finish(new Blob([found.data], { type: type }), null, "rasterBlob");
        })
        .catch(function (error) {
          if (error && error.name === "AbortError") { return; }
          context.fail("[dzbuild-pack] " + error, null);
        });
    },
    downloadTileAbort: function (context) {
      if (context.userData.abort) { context.userData.abort.abort(); }
    },
  });
}(window.OpenSeadragon, window.pmtiles));
