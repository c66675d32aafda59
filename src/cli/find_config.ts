/**
 * Where the CLI's commands find their configuration file.
 *
 * @module
 */

import { cwd as processCwd, pathExists, paths } from "../portable.ts";
import { CONFIG_FILE, type FileConfig, loadConfigFile } from "./config.ts";

/** The file `given` (flag or `LONELYPSS_CONFIG`), else `lonelypss.json` in `cwd` if there, else null. */
export async function findConfig(
  given: string | undefined,
  cwd: string,
): Promise<FileConfig | null> {
  if (given !== undefined && given !== "") return await loadConfigFile(given);
  const fallback = paths.join(cwd, CONFIG_FILE);
  const exists = await pathExists(fallback);
  // Shown as typed: paths inside it then print relative to the working directory.
  return exists ? await loadConfigFile(cwd === processCwd() ? CONFIG_FILE : fallback) : null;
}
