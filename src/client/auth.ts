/**
 * Client credentials from the reference's `subscriber-secrets.json`.
 *
 * @module
 */

import { authFromSecrets, loadSecretsFile, memoryReplayStore } from "../auth/mod.ts";
import type { AuthConfig } from "../auth/mod.ts";

/**
 * Reads a `subscriber-secrets.json` (what `cli.ts setup` writes and the
 * Python client reads): `to-broadcaster` signs what this client sends,
 * `to-subscriber` verifies what broadcasters deliver. A missing entry means
 * `none`. hmac replays are remembered in memory.
 *
 * @throws {Error} when the file cannot be read or is invalid (naming the file)
 */
export async function authFromSecretsFile(path: string): Promise<AuthConfig> {
  const file = await loadSecretsFile(path);
  return await authFromSecrets(file, { replay: () => Promise.resolve(memoryReplayStore()) });
}
