/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): the functions with the most self time, then the
 * time spent in or below each package and each runtime module (inclusive: a module's share counts
 * what it calls, so the shares overlap; "where does the request go" reads from the modules down).
 * Run: node --import tsx bench/api/top-self.ts <file.cpuprofile> [count]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const [file, count = '25'] = process.argv.slice(2);
if (!file) throw new Error('usage: top-self.ts <file.cpuprofile> [count]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
};
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  total += delta;
  const frame = byId.get(id)!.callFrame;
  const where = frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(runtime|bench)\//, '$1/');
  const name = `${frame.functionName || '(anonymous)'} ${where ? `${where}:${frame.lineNumber + 1}` : ''}`;
  self.set(name, (self.get(name) ?? 0) + delta);
});
// Shares of the busy time: idle (waiting on I/O) is shown but not counted in them.
const idle = self.get('(idle) ') ?? 0;
self.delete('(idle) ');
const busy = total - idle;
const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(count));
console.log(
  `${(total / 1e6).toFixed(1)} s sampled, ${((100 * idle) / total).toFixed(0)}% idle; shares of busy time:`,
);
for (const [name, t] of top) console.log(`${((100 * t) / busy).toFixed(1).padStart(5)}%  ${name}`);

const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
/** A frame's package (node_modules), runtime module, or node itself. */
const owner = (url: string): string | undefined => {
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const own = /\/(runtime\/.+)$/.exec(url);
  if (own) return own[1]!.replace(/\.[jt]s$/, '');
  return url.startsWith('node:') ? 'node' : undefined;
};
const inclusive = new Map<string, number>();
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  if (byId.get(id)!.callFrame.functionName === '(idle)') return;
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const name = owner(byId.get(cur)!.callFrame.url);
    if (name && !seen.has(name)) {
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + delta);
    }
  }
});
console.log('\nin or below each package and runtime module (shares of busy time, overlapping):');
for (const [name, t] of [...inclusive.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(count)))
  console.log(`${((100 * t) / busy).toFixed(1).padStart(5)}%  ${name}`);
