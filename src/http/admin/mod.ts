/**
 * The admin page at `<prefix>/admin` (off by default): totals, the failing
 * urls first, a filterable table of subscriptions paged by the store, the
 * prune audit, and one action, removing a url's subscriptions (POST only,
 * same-origin checked, confirmed in the browser). See
 * `docs/subscriptions.md#the-admin-page`.
 *
 * @module
 */

import type { Route } from "../context.ts";
import type { OpsState } from "../routes/ops.ts";

/**
 * The admin routes by local path (they answer any method and check it), or
 * an empty map when the page is off or has no token. The page's code is
 * imported only when it is on: most broadcasters never serve it, and an idle
 * one should not hold it (bench/README.md, "Idle memory").
 */
export async function adminRoutes(
  options: { readonly admin?: boolean; readonly token: string | null },
  state: OpsState,
  prefix: string,
): Promise<ReadonlyMap<string, Route>> {
  if (options.admin !== true || options.token === null || options.token === "") return new Map();
  return (await import("./_routes.ts")).adminRoutes(options.token, state, prefix);
}
