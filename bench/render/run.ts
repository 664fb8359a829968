/**
 * Render throughput: renders the standard video (60 s, 16:9, 720p) N times through every stage,
 * then runs the same final ffmpeg command bare (one ffmpeg process, no queue, no Node in the
 * loop) N times in the same run, and reports videos/hour for both and their ratio.
 *
 *   npm run bench:render    (RENDER_BENCH_RUNS=5 for more runs, RENDER_BENCH_VERBOSE=1 to print the bare command)
 *
 * One warm-up render comes first and is not counted: it fills the asset cache (background loop,
 * ambient bed), as a long-running worker's cache is. CPU seconds include the ffmpeg children.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegArguments } from '../../runtime/media/ffmpeg.js';
import type { StageName } from '../../runtime/pipeline/stage.js';
import { createStages } from '../../runtime/pipeline/stages.js';
import type { AmbientOutput } from '../../runtime/stages/ambient.js';
import { assemblyJob, DEFAULT_ENCODER } from '../../runtime/stages/assemble.js';
import type { CaptionsOutput } from '../../runtime/stages/captions.js';
import type { NarrationOutput } from '../../runtime/stages/narration.js';
import type { VisualsOutput } from '../../runtime/stages/visuals.js';
import { runStages, standardSpec } from '../../test/pipeline/stage-runner.js';

const runs = Number(process.env.RENDER_BENCH_RUNS ?? 3);
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`RENDER_BENCH_RUNS must be a positive integer, not ${process.env.RENDER_BENCH_RUNS}`);

/** CPU seconds of this process (Node) and of its waited-for children (ffmpeg), from /proc. */
function cpuSeconds(): { node: number; children: number } {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  // utime, stime, cutime, cstime are fields 14-17 of stat; here shifted by the two before ')'.
  const seconds = (i: number) => (fields[i] ?? 0) / 100;
  return { node: seconds(11) + seconds(12), children: seconds(13) + seconds(14) };
}

interface Sample {
  wall: number;
  cpu: number;
  nodeCpu: number;
}

async function measure(task: () => Promise<void>): Promise<Sample> {
  const before = cpuSeconds();
  const start = performance.now();
  await task();
  const after = cpuSeconds();
  const nodeCpu = after.node - before.node;
  return {
    wall: (performance.now() - start) / 1000,
    cpu: nodeCpu + after.children - before.children,
    nodeCpu,
  };
}

function runBare(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`bare ffmpeg exited ${code}: ${stderr}`)),
    );
  });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const perHour = (seconds: number) => Math.round(3600 / seconds);

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'archibald-bench-render-'));
  try {
    const stages = createStages({
      storage: { dir: join(root, 'videos'), publicBaseUrl: 'http://127.0.0.1:8080' },
      assetCacheDir: join(root, 'cache'),
      ffmpegTimeoutSeconds: 600,
    });
    console.log(
      `render bench: standard video x${runs}, ${availableParallelism()} CPUs, encoder ${JSON.stringify(DEFAULT_ENCODER)}`,
    );

    // The warm-up render's work directory keeps the inputs of the bare command: the same spec and
    // seed give every run the same graph and inputs.
    const warmDir = join(root, 'work-warm');
    let warmRun: Awaited<ReturnType<typeof runStages>> | undefined;
    const warm = await measure(async () => {
      warmRun = await runStages(stages, standardSpec, { workDir: warmDir, keepWorkDir: true });
    });
    console.log(
      `warm-up (fills the asset cache): ${warm.wall.toFixed(2)} s wall, ${warm.cpu.toFixed(2)} s CPU`,
    );
    if (!warmRun) throw new Error('no warm-up render');
    const args = ffmpegArguments(
      assemblyJob({
        spec: standardSpec,
        narration: warmRun.outputs.narration as NarrationOutput,
        visuals: warmRun.outputs.visuals as VisualsOutput,
        captions: warmRun.outputs.captions as CaptionsOutput,
        ambient: warmRun.outputs.ambient as AmbientOutput,
        encoder: DEFAULT_ENCODER,
        output: 'bare.mp4',
      }),
    );
    if (process.env.RENDER_BENCH_VERBOSE)
      console.log(`bare command (in ${warmDir}): ffmpeg ${args.join(' ')}`);

    // Pipeline and bare runs alternate, and which goes first alternates too, so that both see the
    // same load from anything else running on the machine.
    const pipeline: Sample[] = [];
    const bare: Sample[] = [];
    const stageSeconds: Partial<Record<StageName, number[]>> = {};
    for (let i = 0; i < runs; i++) {
      const renderOnce = () => {
        let mark = performance.now();
        return measure(async () => {
          await runStages(stages, standardSpec, {
            afterStage: (stage) => {
              (stageSeconds[stage] ??= []).push((performance.now() - mark) / 1000);
              mark = performance.now();
            },
          });
        });
      };
      const bareOnce = () => measure(() => runBare(args, warmDir));
      let p: Sample;
      let b: Sample;
      if (i % 2 === 0) {
        p = await renderOnce();
        b = await bareOnce();
      } else {
        b = await bareOnce();
        p = await renderOnce();
      }
      pipeline.push(p);
      bare.push(b);
      console.log(
        `run ${i + 1}: pipeline ${p.wall.toFixed(2)} s wall, ${p.cpu.toFixed(2)} s CPU | ` +
          `bare ffmpeg ${b.wall.toFixed(2)} s wall, ${b.cpu.toFixed(2)} s CPU`,
      );
    }
    const pWall = mean(pipeline.map((s) => s.wall));
    const bWall = mean(bare.map((s) => s.wall));
    const pCpu = mean(pipeline.map((s) => s.cpu));
    const bCpu = mean(bare.map((s) => s.cpu));
    console.log('\nper stage (mean wall seconds):');
    for (const [stage, xs] of Object.entries(stageSeconds))
      console.log(`  ${stage.padEnd(10)} ${mean(xs).toFixed(3)}`);
    console.log('\nresult (one video at a time):');
    console.log(
      `  pipeline   ${pWall.toFixed(2)} s/video wall  ${pCpu.toFixed(2)} s CPU  → ${perHour(pWall)} videos/hour` +
        ` (of the CPU, Node itself: ${mean(pipeline.map((s) => s.nodeCpu)).toFixed(2)} s)`,
    );
    console.log(
      `  bare ffmpeg ${bWall.toFixed(2)} s/video wall  ${bCpu.toFixed(2)} s CPU  → ${perHour(bWall)} videos/hour`,
    );
    console.log(
      `  ratio pipeline/bare: ${(pWall / bWall).toFixed(3)} wall, ${(pCpu / bCpu).toFixed(3)} CPU (target ≤ 1.10)`,
    );
    console.log(`  target 240 videos/hour: ${perHour(pWall) >= 240 ? 'met' : 'NOT met'}`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
