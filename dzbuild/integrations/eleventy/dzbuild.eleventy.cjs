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
 * The markup is dzbuild's embed (templates/_embed.html); dzbuild-embed.js starts the viewers and loads
 * OpenSeadragon once per page.
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

// dzbuild's embed (templates/_embed.html) as `dzbuild build` rendered it into the data file,
// with this page's alt text and caption put in place of the marks.
function figure(name, image, opts, marks) {
  const version = String(opts.version === undefined ? image.latest : opts.version);
  const embed = image.embed[version];
  if (!embed) { throw new Error(`deepzoom "${name}": no published version ${version}`); }
  const html = opts.caption ? embed.html.split(marks.caption).join(escape(opts.caption)) : embed.html_plain;
  return html.split(marks.alt).join(escape(opts.alt || image.title));
}

module.exports = function dzbuildPlugin(eleventyConfig, pluginOptions = {}) {
  const dataFile = path.resolve(pluginOptions.dataFile || "_data/dzbuild.json");
  for (const ignored of pluginOptions.ignore || ["zoom/**", ".dzbuild/**"]) {
    eleventyConfig.ignores.add(ignored); // the raw tiles and dzbuild's cache are not pages
  }
  eleventyConfig.addWatchTarget(dataFile);
  let data = null;
  const pagesWithScripts = new Set(); // dzbuild-embed.js is included once per page
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
    const image = data.images[name];
    if (!image) { throw new Error(`deepzoom "${name}": no such image in ${dataFile}`); }
    const page = (this.page && (this.page.outputPath || this.page.url)) || "";
    const first = !pagesWithScripts.has(page);
    pagesWithScripts.add(page);
    const script = first ? `\n<script src="${escape(data.assets.embed)}"></script>` : "";
    return figure(name, image, options(args), data.marks) + script;
  });
};
