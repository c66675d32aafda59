/**
 * The store's error class, apart from the store so that `mod.ts` can export
 * it without loading the store (and its driver) until one is opened.
 *
 * @module
 */

/** PostgreSQL cannot be used at start; the message says why (never the password). */
export class PostgresUnavailableError extends Error {
  /** A one-line message. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PostgresUnavailableError";
  }
}
