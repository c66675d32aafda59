/**
 * Glob matching with SQLite `GLOB` rules on whole, valid-UTF-8 topics, and an index that
 * finds every pattern matching a topic among many.
 *
 * @example
 * ```ts
 * import { GlobIndex, globMatches } from "./mod.ts";
 * const topic = new TextEncoder().encode("svc/7/up");
 * console.assert(globMatches("svc/*", topic));
 * const index = new GlobIndex<string>();
 * index.add("svc/?/*", "a");
 * index.add("other/*", "b");
 * console.assert(index.match(topic).join() === "a");
 * ```
 *
 * @module
 */

export { compileGlob, type GlobMatcher, globMatches, MAX_GLOB_BYTES } from "./glob.ts";
export { GlobIndex } from "./glob_index.ts";
