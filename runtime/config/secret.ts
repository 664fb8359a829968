/**
 * A secret read from the environment or from a file. File secrets are watched (stat polling, which
 * survives the atomic rename/symlink swap Vault Agent does) so a rotated value is picked up without
 * a restart. A secret never prints its value.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';

export interface Secret {
  /** The current value. */
  value(): string;
  /** Called with the new value after a file secret changed; returns an unsubscribe function. */
  onChange(listener: (value: string) => void): () => void;
  /** Where it comes from ("env DATABASE_PASSWORD" / "file /vault/secrets/db"), safe to log. */
  readonly source: string;
  close(): void;
}

const REDACTED = '[secret]';

class EnvSecret implements Secret {
  constructor(
    private readonly current: string,
    readonly source: string,
  ) {}
  value(): string {
    return this.current;
  }
  onChange(): () => void {
    return () => {};
  }
  close(): void {}
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
}

export class FileSecret implements Secret {
  private current: string;
  private readonly listeners = new Set<(value: string) => void>();
  private watching = false;
  readonly source: string;

  constructor(
    private readonly path: string,
    private readonly pollMs = 1000,
  ) {
    this.source = `file ${path}`;
    this.current = FileSecret.read(path);
  }

  /** Reads and trims the file (Vault templates usually end with a newline). */
  static read(path: string): string {
    const value = readFileSync(path, 'utf8').trim();
    if (value === '') throw new Error(`secret file ${path} is empty`);
    return value;
  }

  value(): string {
    this.watch();
    return this.current;
  }

  onChange(listener: (value: string) => void): () => void {
    this.watch();
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private watch(): void {
    if (this.watching) return;
    this.watching = true;
    const watcher = watchFile(this.path, { interval: this.pollMs, persistent: false }, () => this.reload());
    watcher.unref();
  }

  private reload(): void {
    let next: string;
    try {
      next = FileSecret.read(this.path);
    } catch {
      // Mid-rotation the file can be briefly missing or empty: keep the last good value.
      return;
    }
    if (next === this.current) return;
    this.current = next;
    for (const listener of this.listeners) listener(next);
  }

  close(): void {
    if (this.watching) unwatchFile(this.path);
    this.watching = false;
    this.listeners.clear();
  }

  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
}

export function envSecret(value: string, name: string): Secret {
  return new EnvSecret(value, `env ${name}`);
}
