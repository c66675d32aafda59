/**
 * What checking an rqlite configuration needs without the store itself (the
 * CLI and `mod.ts` import this, and the store only when one is opened).
 *
 * @module
 */

/** rqlite read consistency levels (`weak` is rqlite's default and ours). */
export const READ_CONSISTENCIES = ["none", "weak", "linearizable", "strong"] as const;
/** One of {@link READ_CONSISTENCIES}. */
export type ReadConsistency = (typeof READ_CONSISTENCIES)[number];

/**
 * Checks one node url: absolute http(s), no credentials, query or fragment.
 *
 * @throws {RangeError} saying what is wrong
 */
export function checkRqliteUrl(u: string): void {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw new RangeError(`Invalid rqlite url "${u}": not an absolute url`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new RangeError(`Invalid rqlite url "${u}": must be http or https`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new RangeError(`Invalid rqlite url "${u}": give the user and password separately`);
  }
  if (url.search !== "" || url.hash !== "") {
    throw new RangeError(`Invalid rqlite url "${u}": no query or fragment`);
  }
}
