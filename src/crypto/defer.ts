/**
 * Imported for its effect, first, by an entry point that wants an idle
 * process small (`cli.ts`, `bench/ours_server.ts`): `./sha512.ts` then opens
 * libcrypto on the first hash instead of when it loads, which saves about
 * 6.5 MiB resident on an idle Deno broadcaster. Must be evaluated before
 * `./sha512.ts` is: import it before anything that imports that. Tests do
 * not import it (see `./sha512.ts` for why).
 *
 * @example
 * ```ts ignore
 * import "./src/crypto/defer.ts"; // first
 * import { main } from "./src/cli/main.ts";
 * ```
 *
 * @module
 */

import { deferNative } from "./_defer_flag.ts";

deferNative();
