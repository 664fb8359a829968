/**
 * A one-line progress bar with the current stage on a terminal; on anything else (a CI log, a
 * pipe) one line per stage change, so logs stay readable.
 */
export class ProgressLine {
  private lastStage: string | undefined;
  private lastDrawn = '';

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  update(stage: string | null | undefined, percent: number): void {
    const name = stage ?? 'queued';
    const pct = Math.max(0, Math.min(100, percent));
    if (!this.out.isTTY) {
      if (name !== this.lastStage) this.out.write(`  ${name.padEnd(9)} (${pct.toFixed(0)}%)\n`);
      this.lastStage = name;
      return;
    }
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    const line = `  [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct.toFixed(0).padStart(3)}%  ${name}`;
    if (line !== this.lastDrawn) this.out.write(`\r${line.padEnd(60)}`);
    this.lastDrawn = line;
    this.lastStage = name;
  }

  done(): void {
    if (this.out.isTTY && this.lastDrawn) this.out.write('\n');
    this.lastDrawn = '';
  }
}
