/**
 * The glob index of one rqlite store: the shared generation cache
 * (`../glob_generation.ts`) reading its snapshots from the cluster.
 *
 * @module
 */

import { GenerationGlobCache } from "../glob_generation.ts";
import type { Result, RqliteClient } from "./client.ts";
import { ALL_GLOBS, GENERATION } from "./sql.ts";
import { nullableText } from "./values.ts";

/** The glob rows of the cluster as last seen, with the generation they are at. */
export class RqliteGlobCache extends GenerationGlobCache {
  /**
   * Makes sure the index holds generation `generation` or a later one,
   * reloading if not; false when the cluster could not answer before `deadline`.
   */
  ensure(client: RqliteClient, generation: number, deadline: number): Promise<boolean> {
    return this.catchUp(generation, async () => {
      // The generation is read first: rows newer than it only cost another reload later.
      const r = await client.query([[GENERATION], [ALL_GLOBS]], deadline);
      if (!r.ok) return null;
      const rows = r.results[1]!.values.map((v) => ({
        url: String(v[0]),
        glob: String(v[1]),
        recovery: nullableText(v[2]),
      }));
      return { generation: generationOf(r.results[0]), rows };
    });
  }
}

/** The generation in a result of {@link GENERATION}. */
export function generationOf(r: Result | undefined): number {
  return Number(r?.values[0]?.[0] ?? 0);
}
