// trunk's post_build hook for the console (console/Trunk.toml): in a release build, writes a
// brotli and a gzip copy of each file beside it, which the proxy serves to browsers that
// accept them (ServeDir's precompressed files): the console's wasm goes over the wire at
// about a quarter of its size, without compressing it on every request.

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const staging = process.env.TRUNK_STAGING_DIR;
if (!staging) {
  console.error("console-post-build: TRUNK_STAGING_DIR is not set (run through trunk)");
  process.exit(1);
}
if (process.env.TRUNK_PROFILE === "release") {
  for (const name of readdirSync(staging).filter((n) => /\.(wasm|js|css|html)$/.test(n))) {
    const path = join(staging, name);
    const data = readFileSync(path);
    const brotli = brotliCompressSync(data, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
    });
    writeFileSync(path + ".br", brotli);
    writeFileSync(path + ".gz", gzipSync(data, { level: 9 }));
  }
}
