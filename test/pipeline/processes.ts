/** Real process counts, read from /proc: the ffmpeg/ffprobe processes descended from this one. */
import { readFile, readdir } from 'node:fs/promises';

interface ProcessEntry {
  pid: number;
  ppid: number;
  name: string;
}

async function processTable(): Promise<ProcessEntry[]> {
  const entries: ProcessEntry[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid …" — comm may itself hold spaces or parentheses.
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      entries.push({
        pid: Number(name),
        name: stat.slice(stat.indexOf('(') + 1, close),
        ppid: Number(fields[1]),
      });
    } catch {
      // the process ended while we looked
    }
  }
  return entries;
}

export async function ffmpegDescendants(root = process.pid): Promise<number[]> {
  const table = await processTable();
  const descendants = new Set<number>([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const entry of table) {
      if (descendants.has(entry.ppid) && !descendants.has(entry.pid)) {
        descendants.add(entry.pid);
        grew = true;
      }
    }
  }
  return table
    .filter((e) => e.pid !== root && descendants.has(e.pid) && (e.name === 'ffmpeg' || e.name === 'ffprobe'))
    .map((e) => e.pid);
}
