/**
 * The `none` strategy: produces nothing, accepts everything (docs/protocol/auth.md#none).
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
