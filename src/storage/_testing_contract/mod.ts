/**
 * The Store contract as one behaviour suite, run unchanged against every
 * backend (SQLite in memory and on a file, rqlite): each backend's test file
 * hands every case of {@link STORE_CONTRACT} a fresh database.
 *
 * @module
 */

import { ADMIN_CASES } from "./admin.ts";
import type { ContractCase } from "./helpers.ts";
import { MISSED_CASES } from "./missed.ts";
import { SET_SUBSCRIPTIONS_CASES } from "./set_subscriptions.ts";
import { SHARED_CASES } from "./shared.ts";
import { SUBSCRIPTION_CASES } from "./subscriptions.ts";

export { bytes, type ContractCase, type ContractDatabase, ok, withStore } from "./helpers.ts";

/** Every case of the contract. */
export const STORE_CONTRACT: readonly ContractCase[] = [
  ...SUBSCRIPTION_CASES,
  ...MISSED_CASES,
  ...SET_SUBSCRIPTIONS_CASES,
  ...SHARED_CASES,
  ...ADMIN_CASES,
];
