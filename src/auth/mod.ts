/**
 * Authorization for both directions (docs/protocol/auth.md): the `none`, `token` and
 * `hmac` strategies, hmac replay stores, and the reference's secrets files.
 *
 * @example
 * ```ts
 * import { authFromSecrets, memoryReplayStore, parseSecretsFile } from "./mod.ts";
 *
 * const file = parseSecretsFile('{"version": "2"}', "subscriber-secrets.json");
 * const auth = await authFromSecrets(file, { replay: () => Promise.resolve(memoryReplayStore()) });
 * console.log(auth.toBroadcaster.kind); // "none"
 * ```
 *
 * @module
 */

export type {
  AuthConfig,
  AuthMessage,
  AuthMessageType,
  AuthResult,
  AuthStrategy,
  SignedEtag,
} from "./types.ts";
export { noneAuth } from "./none.ts";
export { tokenAuth } from "./token.ts";
export {
  decodeHmacSecret,
  encodeHmacSecret,
  generateHmacSecret,
  hmacAuth,
  type HmacAuthOptions,
} from "./hmac.ts";
export { encodeToSign, MESSAGE_TYPE_VALUES } from "./signed_fields.ts";
export {
  type MarkResult,
  memoryReplayStore,
  type MemoryReplayStoreOptions,
  replayExpiry,
  type ReplayStore,
  sharedReplayStore,
} from "./replay_store.ts";
export { sqliteReplayStore, type SqliteReplayStoreOptions } from "./sqlite_replay_store.ts";
export {
  authFromSecrets,
  type AuthFromSecretsOptions,
  formatSecretsFile,
  loadSecretsFile,
  parseSecretsFile,
  type RqliteCredentials,
  saveSecretsFile,
  type SecretsEntry,
  type SecretsFile,
} from "./secrets_file.ts";
