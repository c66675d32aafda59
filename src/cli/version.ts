/**
 * The version, from deno.json (a JSON import: embedded by `deno compile` and
 * `bun build --compile`, read natively by Node ≥ 22).
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };

/** This package's version. */
export const VERSION: string = denoJson.version;
