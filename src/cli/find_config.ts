/**
 * Where the CLI's commands find their configuration file.
 *
 * @module
 */

import { access } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { CONFIG_FILE, type FileConfig, loadConfigFile } from "./config.ts";

/** The file `given` (flag or `LONELYPSS_CONFIG`), else `lonelypss.json` in `cwd` if there, else null. */
export async function findConfig(
  given: string | undefined,
  cwd: string,
): Promise<FileConfig | null> {
  if (given !== undefined && given !== "") return await loadConfigFile(given);
  const fallback = join(cwd, CONFIG_FILE);
  const exists = await access(fallback).then(() => true, () => false);
  // Shown as typed: paths inside it then print relative to the working directory.
  return exists ? await loadConfigFile(cwd === process.cwd() ? CONFIG_FILE : fallback) : null;
}
