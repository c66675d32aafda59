/**
 * The route signature of the HTTP transport. The broadcaster's shared state
 * lives below both transports, in `../core/context.ts`.
 *
 * @module
 */

import type { Context } from "../core/context.ts";

/** A route: request in, response out; never throws for bad input. */
export type Route = (req: Request, ctx: Context) => Promise<Response>;
