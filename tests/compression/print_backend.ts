/**
 * Prints which zstd backend loads on the runtime running this file (its name,
 * or `unavailable: <reason>`), for the tests that vary permissions and
 * `LONELYPSS_LIBZSTD`.
 *
 * @module
 */

import { loadZstd } from "../../src/compression/load.ts";

const zstd = await loadZstd();
if ("unavailable" in zstd) console.log(`unavailable: ${zstd.unavailable}`);
else {
  console.log(zstd.name);
  zstd.close();
}
