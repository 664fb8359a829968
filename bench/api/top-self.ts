/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): the functions with the most self time.
 * Run: node --import tsx bench/api/top-self.ts <file.cpuprofile> [count]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
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
