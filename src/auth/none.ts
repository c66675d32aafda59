/**
 * The `none` strategy: produces nothing, accepts everything (auth.md §5).
 *
 * @module
 */

import type { AuthStrategy } from "./types.ts";

/** Creates the `none` strategy. */
export function noneAuth(): AuthStrategy {
  return {
    kind: "none",
    authorize: () => Promise.resolve(null),
    verify: () => Promise.resolve("ok"),
    close: () => Promise.resolve(),
  };
}
