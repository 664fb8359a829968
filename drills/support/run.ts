/**
 * One drill run: named steps (a failure says which one), a private directory, spare loopback
 * ports, and a clean-up stack that always runs, so a failed drill leaves no process or directory
 * behind. Every child inherits DRILL_RUN_ID, so whatever a drill started can be found by it.
 */
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DrillResult {
  scenario: string;
  verified: boolean;
  /** Recovery point objective measured: how much committed/acknowledged work the recovery gave up. */
  rpoSeconds: number;
  /** Recovery time objective measured: from the start of the recovery to the service answering again. */
  rtoSeconds: number;
  /** Acknowledged (API-accepted) writes lost, where the drill counts them. */
  acknowledgedLost: number;
  detail: { lost: string; checked: string[]; rpo: string; rto: string; [more: string]: unknown };
  /** When the drill ran (ISO 8601) and how long the whole drill took. */
  ranAt: string;
  durationSeconds: number;
}

export interface DrillOptions {
  /** Use ports from here up (checked free) instead of spare ones chosen by the kernel. */
  basePort?: number;
  /** Progress lines go here (stderr by default). */
  log?: (line: string) => void;
}

/** A failure inside a drill, naming the step. */
export class DrillError extends Error {
  constructor(
    readonly scenario: string,
    readonly step: string,
    override readonly cause: unknown,
  ) {
    super(
      `drill ${scenario} failed at step "${step}": ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}

/** Input a drill cannot start with (a missing binary, a port in use): one line, no stack. */
export class DrillInputError extends Error {}

export const RUN_ID_VARIABLE = 'DRILL_RUN_ID';

export class DrillRun {
  readonly runId: string;
  readonly startedAt = Date.now();
  private readonly cleanups: Array<{ what: string; fn: () => unknown }> = [];
  private nextPort: number | undefined;
  private readonly taken = new Set<number>();
  dir = '';
  /** The step running now (a signal names it). */
  current = 'start';

  constructor(
    readonly scenario: string,
    private readonly options: DrillOptions = {},
  ) {
    this.runId = process.env[RUN_ID_VARIABLE] ?? randomBytes(6).toString('hex');
    this.nextPort = options.basePort;
  }

  log(line: string): void {
    (this.options.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(`[${this.scenario}] ${line}`);
  }

  /** Environment every child gets: the run marker. */
  get env(): Record<string, string> {
    return { [RUN_ID_VARIABLE]: this.runId };
  }

  /** Runs one named step; a failure is reported with the step's name. DRILL_FAIL_AT fails it on purpose. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const began = Date.now();
    this.current = name;
    this.log(`${name} …`);
    try {
      if (process.env.DRILL_FAIL_AT === name) throw new Error('failed on purpose (DRILL_FAIL_AT)');
      const value = await fn();
      this.log(`${name}: done in ${((Date.now() - began) / 1000).toFixed(1)} s`);
      return value;
    } catch (error) {
      if (error instanceof DrillError || error instanceof DrillInputError) throw error;
      throw new DrillError(this.scenario, name, error);
    }
  }

  /** Registers clean-up; they run last-registered first, each even if another fails. */
  defer(what: string, fn: () => unknown): void {
    this.cleanups.push({ what, fn });
  }

  /** The run's private directory (created on first use; world-traversable so postgres can reach its own dirs). */
  async privateDir(): Promise<string> {
    if (this.dir) return this.dir;
    const parent = process.env.DRILL_DIR_PARENT ?? tmpdir();
    // As root, PostgreSQL runs as the postgres user, which must reach its directories in here.
    const mode = await stat(parent).then(
      (s) => s.mode,
      () => {
        throw new DrillInputError(`DRILL_DIR_PARENT ${parent} does not exist`);
      },
    );
    if (process.getuid?.() === 0 && (mode & 0o001) === 0)
      throw new DrillInputError(
        `${parent} (DRILL_DIR_PARENT) is not traversable by other users, so not by postgres: chmod o+x it`,
      );
    this.dir = await mkdtemp(join(parent, `archibald-drill-${this.scenario}-`));
    await chmod(this.dir, 0o755);
    this.defer(`remove ${this.dir}`, () => rm(this.dir, { recursive: true, force: true }));
    return this.dir;
  }

  /** A directory inside the private one, owned by `owner` (uid/gid) when given. */
  async subdir(name: string, owner?: { uid: number; gid: number }): Promise<string> {
    const path = join(await this.privateDir(), name);
    await mkdir(path, { recursive: true, mode: 0o700 });
    if (owner) await chown(path, owner.uid, owner.gid);
    return path;
  }

  /** A loopback port nobody listens on: the next from --base-port (checked), or one the kernel picks. */
  async port(): Promise<number> {
    if (this.nextPort !== undefined) {
      const port = this.nextPort++;
      if (!(await portFree(port)))
        throw new DrillInputError(`port ${port} on 127.0.0.1 is in use (from --base-port); choose another`);
      this.taken.add(port);
      return port;
    }
    for (;;) {
      const port = await kernelPort();
      if (!this.taken.has(port)) {
        this.taken.add(port);
        return port;
      }
    }
  }

  async cleanup(): Promise<string[]> {
    const problems: string[] = [];
    for (const { what, fn } of this.cleanups.reverse()) {
      try {
        await fn();
      } catch (error) {
        problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    this.cleanups.length = 0;
    return problems;
  }

  seconds(since: number, until = Date.now()): number {
    return round((until - since) / 1000);
  }
}

export function round(seconds: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(seconds * f) / f;
}

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** Polls until `check` returns a value, or fails naming `what` after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}` +
          (lastError instanceof Error ? ` (last error: ${lastError.message})` : ''),
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
