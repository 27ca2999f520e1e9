/* dzbuild's Eleventy plugin: the deepzoom shortcode, for Nunjucks and Liquid.
 *
 *   // eleventy.config.js (ESM):      import dzbuild from "./dzbuild.eleventy.cjs";
 *   //                                export default function (config) { config.addPlugin(dzbuild); }
 *   // or (CommonJS):                 config.addPlugin(require("./dzbuild.eleventy.cjs"));
 *
 *   {% deepzoom "harbour" %}   {% deepzoom "harbour", "A caption" %}   (Nunjucks keyword arguments too:
 *   {% deepzoom "harbour", caption="...", alt="...", version=1 %})
 *
 * Everything comes from _data/dzbuild.json, which `dzbuild build` writes: run it before Eleventy, or
 * let the plugin run it before every build with addPlugin(dzbuild, { build: true }) (or build: [command...]).
 * The markup is dzbuild's embed (templates/_embed.html); dzbuild-viewer.js starts the viewers and loads
 * OpenSeadragon once per page. Image names are looked up as the data file's own keys only, so a name
 * such as "constructor" or "__proto__" is just an unknown image.
 */
"use strict";

const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escape = (value) => String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);

function options(args) {
  const [first, second] = args;
  if (first && typeof first === "object") { return first; } // Nunjucks keyword arguments
  return { caption: first, alt: second };
}

// A value of one of the data file's objects, by its own key (never one inherited from Object.prototype).
const own = (object, key) => (object && Object.hasOwn(object, key) ? object[key] : undefined);

// dzbuild's embed (templates/_embed.html) as `dzbuild build` rendered it into the data file in parts:
// markup parts as they are, and between them this page's alt text and caption, escaped.
function figure(name, image, opts) {
  const version = String(opts.version === undefined ? image.latest : opts.version);
  const embed = own(image.embed, version);
  if (!embed) { throw new Error(`deepzoom "${name}": no published version ${version}`); }
  const values = new Map([["alt", escape(opts.alt || image.title)], ["caption", escape(opts.caption || "")]]);
  const parts = opts.caption ? embed.parts : embed.parts_plain;
  return parts.map((part, i) => (i % 2 === 0 ? part : values.get(part))).join("");
}

module.exports = function dzbuildPlugin(eleventyConfig, pluginOptions = {}) {
  const dataFile = path.resolve(pluginOptions.dataFile || "_data/dzbuild.json");
  for (const ignored of pluginOptions.ignore || ["zoom/**", ".dzbuild/**"]) {
    eleventyConfig.ignores.add(ignored); // the raw tiles and dzbuild's cache are not pages
  }
  eleventyConfig.addWatchTarget(dataFile);
  let data = null;
  const pagesWithScripts = new Set(); // dzbuild-viewer.js is included once per page
  eleventyConfig.on("eleventy.before", () => { data = null; pagesWithScripts.clear(); });
  if (pluginOptions.build) {
    // { build: true }: every Eleventy build (and every rebuild of --serve) runs `dzbuild build` first,
    // which does no tile work when nothing changed; a new v{n}/ under the watched source rebuilds.
    const command = pluginOptions.build === true ? ["dzbuild", "build", "--progress", "quiet"] : pluginOptions.build;
    eleventyConfig.addWatchTarget(pluginOptions.source || "zoom/");
    // What that build writes must not start another one: its cache, and the data file it rewrites.
    eleventyConfig.watchIgnores.add(".dzbuild/**");
    eleventyConfig.watchIgnores.add(path.relative(process.cwd(), dataFile));
    eleventyConfig.on("eleventy.before", () => {
      const done = spawnSync(command[0], command.slice(1), { stdio: ["ignore", "inherit", "pipe"], encoding: "utf8" });
      if (done.error || done.status !== 0) {
        throw new Error(`${command.join(" ")} failed: ${(done.stderr || String(done.error)).trim()}`);
      }
    });
  }

  eleventyConfig.addShortcode("deepzoom", function (name, ...args) {
    if (data === null) {
      try {
        data = JSON.parse(fs.readFileSync(dataFile, "utf8"));
      } catch (error) {
        throw new Error(`deepzoom "${name}": cannot read ${dataFile} (run \`dzbuild build\` first): ${error.message}`);
      }
    }
    const image = own(data.images, String(name));
    if (!image) { throw new Error(`deepzoom "${name}": no such image in ${dataFile}`); }
    const page = (this.page && (this.page.outputPath || this.page.url)) || "";
    const first = !pagesWithScripts.has(page);
    pagesWithScripts.add(page);
    const script = first ? `\n${data.assets.embed_script}` : "";
    return figure(name, image, options(args)) + script;
  });
};
