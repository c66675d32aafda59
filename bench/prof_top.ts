/**
 * Summarises a V8 `.cpuprofile` (from `deno run --cpu-prof`, see
 * `deno task bench --cpu-prof`): top functions by self time, and by
 * inclusive time for our own source files.
 *
 * Usage: deno run -A bench/prof_top.ts bench/results/prof/ours-2.cpuprofile [N]
 *
 * @module
 */

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const file = Deno.args[0];
if (file === undefined) throw new Error("Missing argument: profile file");
const topN = Number(Deno.args[1] ?? 25);
const prof = JSON.parse(await Deno.readTextFile(file)) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
};
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfUs = new Map<number, number>();
prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

function label(n: Node): string {
  const url = n.callFrame.url.replace(/^.*\/(src|bench|ext)\//, "$1/");
  return `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`;
}

const self = new Map<string, number>();
const incl = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  self.set(label(n), (self.get(label(n)) ?? 0) + us);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur)!);
    if (seen.has(l)) continue;
    seen.add(l);
    incl.set(l, (incl.get(l) ?? 0) + us);
  }
}

const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled`);
console.log("\nself time:");
for (const [l, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, topN)) {
  console.log(`${pct(us)}  ${l}`);
}
console.log("\ninclusive, our files:");
for (
  const [l, us] of [...incl].filter(([l]) => / (src|bench)\//.test(l)).sort((a, b) => b[1] - a[1])
    .slice(0, topN)
) console.log(`${pct(us)}  ${l}`);
