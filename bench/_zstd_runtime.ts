/**
 * Runs the zstd measurements on whichever runtime executes it:
 * `<runtime> bench/_zstd_runtime.ts <messages file> <dictionary file>`
 * prints one JSON line of {@link Measured}.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { loadZstd } from "../src/compression/load.ts";
import { measure, unpackMessages } from "./_zstd_measure.ts";

const argv = (globalThis as unknown as { process: { argv: string[] } }).process.argv;
const [messagesFile, dictFile] = argv.slice(-2) as [string, string];
const zstd = await loadZstd();
if ("unavailable" in zstd) throw new Error(zstd.unavailable);
const dictionary = zstd.loadDictionary(readFileSync(dictFile));
console.log(JSON.stringify(measure(zstd, unpackMessages(readFileSync(messagesFile)), dictionary)));
dictionary.close();
zstd.close();
