/**
 * The layout rules of `docs/architecture.md`, checked over the import graph:
 * no import circles; in `src/`, dependencies point down the layers; a folder
 * with a `mod.ts` is entered only through it; test helpers are named
 * `_testing*` and only tests import them.
 *
 * The graph is read from the sources (static and dynamic relative imports,
 * comments skipped), so it needs no network and no type-check.
 *
 * @module
 */

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The layers, bottom first: a file of `src/` (or the root entry files) may
 * import its own layer's files or lower ones, never higher. Longest prefix wins.
 */
const LAYERS: readonly (readonly string[])[] = [
  [
    "src/log.ts",
    "src/deadline.ts",
    "src/runtime_name.ts",
    "src/sync_fs.ts",
    "src/portable.ts",
    "src/background_timer.ts",
  ],
  ["src/crypto/", "src/protocol/"],
  ["src/glob/", "src/compression/"],
  ["src/storage/"],
  ["src/auth/"],
  ["src/core/"],
  ["src/intake/", "src/outbound/"],
  ["src/fanout/"],
  ["src/http/", "src/ws/"],
  ["src/broadcaster.ts"],
  ["src/runtime/"],
  ["src/client/"],
  ["src/cli/"],
  ["mod.ts", "cli.ts"],
];

/** Every .ts file under `dir` (repo-relative), skipping dot folders and node_modules. */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir))) {
    if (entry.startsWith(".") || entry === "node_modules") continue;
    const path = dir === "" ? entry : `${dir}/${entry}`;
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...tsFiles(path));
    else if (path.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** The files each file imports (relative specifiers only, comments skipped). */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const specifier = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm;
  for (const file of files) {
    const code = readFileSync(join(ROOT, file), "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "");
    const targets = [...code.matchAll(specifier)]
      .map((m) => relative(ROOT, resolve(ROOT, dirname(file), m[1]!)))
      .filter((t) => t.endsWith(".ts"));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** The strongly connected components with more than one file (Tarjan). */
function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** The layer of a file of `src/` or the root, or null (tests, benches). */
function layerOf(file: string): number | null {
  let best: { layer: number; length: number } | null = null;
  LAYERS.forEach((prefixes, layer) => {
    for (const prefix of prefixes) {
      const hit = prefix.endsWith("/") ? file.startsWith(prefix) : file === prefix;
      if (hit && (best === null || prefix.length > best.length)) {
        best = { layer, length: prefix.length };
      }
    }
  });
  return (best as { layer: number } | null)?.layer ?? null;
}

const isTest = (file: string): boolean =>
  /_test\.ts$|_bench\.ts$/.test(file) || file.startsWith("tests/") || file.startsWith("bench/");
const isHelper = (file: string): boolean => file.split("/").some((p) => p.startsWith("_testing"));

const SOURCES = ["mod.ts", "cli.ts", ...tsFiles("src")];
const ALL = [...SOURCES, ...tsFiles("tests"), ...tsFiles("bench")];
const GRAPH = importGraph(ALL);

Deno.test("layout: no import circles (sources, tests and benches)", () => {
  assert.deepEqual(circles(GRAPH), []);
});

Deno.test("layout: every source file has a layer, and imports point down", () => {
  const unplaced = SOURCES.filter((f) => layerOf(f) === null);
  assert.deepEqual(unplaced, [], "add the new folder to LAYERS (and docs/architecture.md)");
  const upward: string[] = [];
  for (const file of SOURCES) {
    for (const target of GRAPH.get(file) ?? []) {
      const to = layerOf(target);
      if (to !== null && to > layerOf(file)!) upward.push(`${file} -> ${target}`);
    }
  }
  assert.deepEqual(upward, []);
});

Deno.test("layout: a folder with a mod.ts is entered only through it", () => {
  const bypasses: string[] = [];
  for (const file of SOURCES) {
    for (const target of GRAPH.get(file) ?? []) {
      // The topmost folder of the target's path with a mod.ts that does not hold the importer.
      const parts = dirname(target).split("/");
      for (let i = 2; i <= parts.length; i++) {
        const dir = parts.slice(0, i).join("/");
        if (file.startsWith(`${dir}/`) || !existsSync(join(ROOT, dir, "mod.ts"))) continue;
        // A folder inside it with a mod.ts of its own (protocol/stateful/) is entered through that.
        const nested = target.endsWith("/mod.ts") && existsSync(join(ROOT, target));
        if (target !== `${dir}/mod.ts` && !nested) bypasses.push(`${file} -> ${target}`);
        break;
      }
    }
  }
  assert.deepEqual(bypasses, []);
});

const DENO_JSON = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as {
  exports: Record<string, string>;
  tasks: Record<string, string>;
};

/** The files `deno.json` exports (the package's ways in). */
const EXPORTED = Object.values(DENO_JSON.exports).map((p) => p.replace(/^\.\//, ""));

Deno.test("layout: `deno task doc` lints every exported entry", () => {
  const linted = DENO_JSON.tasks["doc"]!.split(/\s+/).filter((w) => w.endsWith(".ts"));
  assert.deepEqual([...linted].sort(), [...EXPORTED].sort());
});

Deno.test("layout: every mod.ts is a way in (imported, or a package export)", () => {
  const imported = new Set([...GRAPH.values()].flat());
  const unused = SOURCES.filter((f) =>
    f.endsWith("mod.ts") && f !== "mod.ts" && !imported.has(f) && !EXPORTED.includes(f)
  );
  assert.deepEqual(unused, []);
});

Deno.test("layout: test helpers are named _testing* and only tests import them", () => {
  const importers = new Map<string, string[]>();
  for (const [file, targets] of GRAPH) {
    for (const t of targets) importers.set(t, [...importers.get(t) ?? [], file]);
  }
  const misnamed: string[] = [];
  const leaked: string[] = [];
  for (const file of SOURCES) {
    if (isTest(file) || EXPORTED.includes(file)) continue;
    const users = importers.get(file) ?? [];
    const testOnly = users.length > 0 && users.every((u) => isTest(u) || isHelper(u));
    if (testOnly && !isHelper(file)) misnamed.push(file);
    if (isHelper(file)) {
      for (const u of users) if (!isTest(u) && !isHelper(u)) leaked.push(`${u} -> ${file}`);
    }
  }
  assert.deepEqual(misnamed, [], "name test-only helpers _testing*.ts (see docs/architecture.md)");
  assert.deepEqual(leaked, []);
});
