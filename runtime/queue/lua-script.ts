/**
 * A Lua script run by its SHA (EVALSHA), falling back to EVAL when Redis does not know it yet
 * (first use, or after a restart or failover): ioredis' defineCommand does both. Sending the
 * script's text with every request (EVAL) costs its bytes on the wire and a SHA1 of it in Redis
 * on every call, on the hot path of every authenticated request.
 */
import type { RedisClient } from './connection.js';

type Command = (...keysAndArgs: Array<string | number>) => Promise<unknown>;

export class LuaScript {
  private readonly defined = new WeakSet<RedisClient>();

  /** `name` must be unique among the scripts defined on one client. */
  constructor(
    readonly name: string,
    readonly numberOfKeys: number,
    readonly lua: string,
  ) {}

  run(redis: RedisClient, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    if (keys.length !== this.numberOfKeys)
      throw new Error(`${this.name} takes ${this.numberOfKeys} keys, got ${keys.length}`);
    if (!this.defined.has(redis)) {
      redis.defineCommand(this.name, { numberOfKeys: this.numberOfKeys, lua: this.lua });
      this.defined.add(redis);
    }
    const command = (redis as unknown as Record<string, Command>)[this.name]!;
    return command.call(redis, ...keys, ...args);
  }
}
