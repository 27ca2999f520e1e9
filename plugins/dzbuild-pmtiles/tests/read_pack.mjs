// Read every tile of a pack version with npm's pmtiles, as a viewer would: the index, then each
// tile from the archive it names. Prints {"level/col/row": sha256 hex}.
// usage: node read_pack.mjs PMTILES_ESM_MODULE VERSION_FOLDER
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [moduleFile, folder] = process.argv.slice(2);
const { PMTiles } = await import(pathToFileURL(moduleFile).href);

class FileSource {
  constructor(path) { this.path = path; this.data = readFileSync(path); }
  getKey() { return this.path; }
  async getBytes(offset, length) {
    const slice = this.data.subarray(offset, offset + length);
    return { data: slice.buffer.slice(slice.byteOffset, slice.byteOffset + slice.byteLength) };
  }
}

const index = JSON.parse(readFileSync(join(folder, "index.json"), "utf8"));
const urls = Object.keys(index.archives).map(Number).sort((a, b) => a - b)
  .flatMap((version) => index.archives[version].map((name) => `../v${version}/${name}.pmtiles`));
const archives = new Map();
const out = {};
for (let level = index.min_level; level <= index.max_level; level++) {
  const scale = 2 ** (index.max_level - level);
  const cols = Math.ceil(Math.ceil(index.width / scale) / index.tile_size);
  const rows = Math.ceil(Math.ceil(index.height / scale) / index.tile_size);
  const perRow = Math.ceil(cols / index.block);
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) {
      const moved = index.tiles[`${level}/${col}/${row}`];
      const held = moved ?? index.blocks[level][Math.floor(row / index.block) * perRow + Math.floor(col / index.block)];
      const url = urls[held];
      if (!archives.has(url)) archives.set(url, new PMTiles(new FileSource(join(folder, url))));
      const tile = await archives.get(url).getZxy(level, col, row);
      out[`${level}/${col}/${row}`] = tile ? createHash("sha256").update(Buffer.from(tile.data)).digest("hex") : null;
    }
  }
}
process.stdout.write(JSON.stringify(out));
