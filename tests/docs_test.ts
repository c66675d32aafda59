/**
 * The documentation stays true to the code and to itself:
 * - the limits table of docs/operating.md is the one generated from `Limits`;
 * - every `docs/…md#anchor` cited anywhere, and every relative link in a
 *   markdown file, points at a file and heading that exist;
 * - the repository stands alone: no file refers to a document outside it.
 */

import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { COMPRESSION_DEFAULTS, createBroadcaster, silentLogger } from "../mod.ts";
import {
  interfaceDocs,
  limitsRows,
  OPERATING_PAGE,
  renderTable,
  rowsInPage,
} from "./_docs_limits.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TEXT = /\.(ts|md|py|json|sh|txt|yml|yaml)$|^\.ci\/run$|^\.gitignore$/;

/** Tracked files (git), or every file under the root when this is not a git checkout. */
async function repoFiles(): Promise<string[]> {
  const git = await new Deno.Command("git", {
    args: ["ls-files", "-z"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => null);
  if (git?.success) {
    return new TextDecoder().decode(git.stdout).split("\0").filter((f) => f !== "");
  }
  const out: string[] = [];
  const skip = new Set([".git", "node_modules", ".venv", "dist", ".spool"]);
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(join(ROOT, dir))) {
      if (skip.has(entry.name) || entry.name.startsWith(".venv")) continue;
      const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (path === "bench/results") continue;
      if (entry.isDirectory) walk(path);
      else if (entry.isFile) out.push(path);
    }
  };
  walk("");
  return out;
}

async function textFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const path of await repoFiles()) {
    if (!TEXT.test(path)) continue;
    try {
      files.set(path, await Deno.readTextFile(join(ROOT, path)));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error; // deleted, not yet committed
    }
  }
  return files;
}

/** Lines outside fenced code blocks. */
function proseLines(markdown: string): string[] {
  const lines: string[] = [];
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    else if (!fenced) lines.push(line);
  }
  return lines;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

/** The anchors a markdown page offers: its headings (numbered when repeated) and `<a id>`s. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading?.[1] !== undefined) {
      const base = slug(heading[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const id of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id[1] as string);
  }
  return anchors;
}

Deno.test("docs: the limits table of docs/operating.md is generated from the code", async () => {
  const page = await Deno.readTextFile(OPERATING_PAGE);
  const expected = await limitsRows();
  assert.ok(expected.length > 20, "Limits should have its fields");
  assert.deepEqual(
    rowsInPage(page),
    expected,
    "docs/operating.md's limits table differs from Limits: run `deno task docs:limits`\n" +
      renderTable(expected),
  );
});

Deno.test("docs: the options table of docs/compression.md matches CompressionOptions", async () => {
  const page = await Deno.readTextFile(join(ROOT, "docs/compression.md"));
  const start = page.indexOf("\n## Options");
  const section = page.slice(start, page.indexOf("\n## ", start + 1));
  const rows = [...section.matchAll(/^\| `(\w+)` +\| ([^|]+?) +\|/gm)].map((m) => [m[1], m[2]]);
  const props = (await interfaceDocs(["CompressionOptions"])).get("CompressionOptions") ?? [];
  assert.deepEqual(rows.map((r) => r[0]).sort(), props.map((p) => p.name).sort());
  const units: Record<string, number> = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };
  const defaults = COMPRESSION_DEFAULTS as unknown as Record<string, unknown>;
  for (const [name, cell] of rows as [string, string][]) {
    const sized = /^([\d.]+) (KiB|MiB|GiB)$/.exec(cell);
    const value = /^`(true|false)`$/.test(cell)
      ? cell === "`true`"
      : /^[\d,]+$/.test(cell)
      ? Number(cell.replaceAll(",", ""))
      : sized
      ? Number(sized[1]) * (units[sized[2] as string] as number)
      : undefined;
    if (value !== undefined) assert.equal(value, defaults[name], `default of ${name}`);
  }
});

Deno.test("docs: the metrics table of docs/operating.md lists exactly what /metrics exposes", async () => {
  const page = await Deno.readTextFile(OPERATING_PAGE);
  const section = page.slice(
    page.indexOf("\n## Metrics"),
    page.indexOf("\n## ", page.indexOf("\n## Metrics") + 1),
  );
  const documented = [...section.matchAll(/^\| `(lonelypss_\w+)` +\| (\w+) /gm)]
    .map((m) => `${m[1]} ${m[2]}`).sort();
  const b = await createBroadcaster({ database: ":memory:", logger: silentLogger, sweeper: false });
  try {
    const res = await b.handle(new Request("http://127.0.0.1/metrics"));
    const text = await res.text();
    const exposed = [...text.matchAll(/^# TYPE (\w+) (\w+)$/gm)].map((m) => `${m[1]} ${m[2]}`)
      .sort();
    assert.equal(res.status, 200);
    assert.ok(exposed.length > 10, text);
    assert.deepEqual(documented, exposed);
  } finally {
    await b.close();
  }
});

Deno.test("docs: every docs/…#anchor cited and every relative markdown link resolves", async () => {
  const files = await textFiles();
  const anchors = new Map<string, Set<string> | null>();
  const anchorsFor = (path: string): Set<string> | null => {
    if (!anchors.has(path)) {
      const text = files.get(path);
      anchors.set(path, text === undefined ? null : anchorsOf(text));
    }
    return anchors.get(path) ?? null;
  };
  const broken: string[] = [];
  const check = (from: string, target: string, anchor: string | undefined) => {
    const found = anchorsFor(target);
    if (found === null) broken.push(`${from}: ${target} does not exist`);
    else if (anchor !== undefined && anchor !== "" && !found.has(anchor)) {
      broken.push(`${from}: ${target} has no heading #${anchor}`);
    }
  };
  for (const [path, text] of files) {
    // Citations from code and data: docs/<page>.md[#<anchor>], relative to the root.
    if (!path.endsWith(".md")) {
      for (const m of text.matchAll(/(?<![\w./-])(docs\/[\w./-]+\.md)(?:#([\w-]+))?/g)) {
        check(path, m[1] as string, m[2]);
      }
      continue;
    }
    // Markdown links, relative to the page.
    for (const line of proseLines(text)) {
      for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) {
        const href = m[1] as string;
        if (/^[a-z]+:/i.test(href)) continue;
        const [file, anchor] = href.split("#", 2) as [string, string | undefined];
        const target = file === ""
          ? path
          : normalize(relative(ROOT, join(ROOT, dirname(path), file))).replaceAll("\\", "/");
        if (target.endsWith("/") || !target.endsWith(".md")) {
          if (!files.has(target) && !(await exists(join(ROOT, target)))) {
            broken.push(`${path}: ${href} does not exist`);
          }
          continue;
        }
        check(path, target, anchor);
      }
    }
  }
  assert.deepEqual(broken, []);
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

// Built from pieces so that this file does not match itself.
const OUTSIDE = [
  ".." + "/shared",
  "shared" + "/spec",
  "stateless-http" + ".md",
  "stateful-websocket" + ".md",
  "server-config" + "-storage",
  "zstd-options" + ".md",
  "DECISIONS" + ".md",
  "DECISIONS" + " \u00a7",
  "config" + " chapter",
];
// The only files allowed to name the vendored rqlite build beside the checkout.
const ALLOWED = new Set([".ci/run", "tests/README.md"]);

Deno.test("docs: no file refers to a document outside the repository", async () => {
  const offending: string[] = [];
  for (const [path, text] of await textFiles()) {
    if (ALLOWED.has(path)) continue;
    text.split("\n").forEach((line, i) => {
      const hit = OUTSIDE.find((needle) => line.includes(needle)) ??
        // The spec's own auth chapter, as opposed to docs/protocol/auth.md.
        (/(?<![\w/(\[-])auth\.md/.test(line) ? "auth" + ".md" : undefined) ??
        // Section signs belong to RFC citations only.
        (/(?<!RFC \d{3,5} )\u00a7/.test(line) ? "\u00a7" : undefined);
      if (hit !== undefined) offending.push(`${path}:${i + 1}: ${hit}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offending, []);
});
