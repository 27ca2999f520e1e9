/* dzbuild's Eleventy plugin: the deepzoom shortcode, for Nunjucks and Liquid.
 *
 *   // eleventy.config.js (ESM):      import dzbuild from "./dzbuild.eleventy.cjs";
 *   //                                export default function (config) { config.addPlugin(dzbuild); }
 *   // or (CommonJS):                 config.addPlugin(require("./dzbuild.eleventy.cjs"));
 *
 *   {% deepzoom "harbour" %}   {% deepzoom "harbour", "A caption" %}   (Nunjucks keyword arguments too:
 *   {% deepzoom "harbour", caption="...", alt="...", version=1 %})
 *
 * Everything comes from _data/dzbuild.json, which `dzbuild build` writes: run it before Eleventy.
 * The markup is dzbuild's embed (templates/_embed.html); dzbuild-embed.js starts the viewers.
 */
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escape = (value) => String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);

function options(args) {
  const [first, second] = args;
  if (first && typeof first === "object") { return first; } // Nunjucks keyword arguments
  return { caption: first, alt: second };
}

function figure(name, image, opts) {
  let descriptor = image.descriptor;
  if (opts.version !== undefined) {
    descriptor = (image.descriptors.dzi || {})[String(opts.version)];
    if (!descriptor) { throw new Error(`deepzoom "${name}": no published version ${opts.version}`); }
  }
  const { width, height, thumbnail } = image;
  const link = image.manifest
    ? ` <a class="dzbuild-iiif" href="${escape(image.manifest)}?manifest=${escape(image.manifest)}">IIIF manifest</a>`
    : "";
  const caption = opts.caption || link ? `<figcaption>${escape(opts.caption || "")}${link}</figcaption>` : "";
  return `<figure class="dzbuild-embed" data-dzbuild="${escape(descriptor)}" data-dzbuild-width="${width}"` +
    ` data-dzbuild-height="${height}" style="aspect-ratio: ${width} / ${height}">` +
    `<img src="${escape(thumbnail.url)}" alt="${escape(opts.alt || image.title)}" width="${thumbnail.width}"` +
    ` height="${thumbnail.height}" loading="lazy">${caption}</figure>`;
}

function scripts(assets) {
  const integrity = assets.openseadragon_integrity
    ? ` integrity="${escape(assets.openseadragon_integrity)}" crossorigin="anonymous"` : "";
  return `\n<script src="${escape(assets.openseadragon)}"${integrity}></script>\n` +
    `<script src="${escape(assets.embed)}"></script>`;
}

module.exports = function dzbuildPlugin(eleventyConfig, pluginOptions = {}) {
  const dataFile = path.resolve(pluginOptions.dataFile || "_data/dzbuild.json");
  for (const ignored of pluginOptions.ignore || ["zoom/**", ".dzbuild/**"]) {
    eleventyConfig.ignores.add(ignored); // the raw tiles and dzbuild's cache are not pages
  }
  eleventyConfig.addWatchTarget(dataFile);
  let data = null;
  const pagesWithScripts = new Set(); // OpenSeadragon is loaded once per page
  eleventyConfig.on("eleventy.before", () => { data = null; pagesWithScripts.clear(); });

  eleventyConfig.addShortcode("deepzoom", function (name, ...args) {
    if (data === null) {
      try {
        data = JSON.parse(fs.readFileSync(dataFile, "utf8"));
      } catch (error) {
        throw new Error(`deepzoom "${name}": cannot read ${dataFile} (run \`dzbuild build\` first): ${error.message}`);
      }
    }
    const image = data.images[name];
    if (!image) { throw new Error(`deepzoom "${name}": no such image in ${dataFile}`); }
    const page = (this.page && (this.page.outputPath || this.page.url)) || "";
    const first = !pagesWithScripts.has(page);
    pagesWithScripts.add(page);
    return figure(name, image, options(args)) + (first ? scripts(data.assets) : "");
  });
};
