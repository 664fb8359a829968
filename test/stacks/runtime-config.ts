import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeConfig, loadConfig } from '../../runtime/config/load.js';
import type { Config } from '../../runtime/config/load.js';

/**
 * Loads the stack's runtime ConfigMap with the runtime's own config loader, the *_FILE secrets
 * pointed at temporary files standing in for what Vault Agent renders.
 */
export function loadWithRuntimeLoader(data: Record<string, string>, secretValue = 's3cret-value'): Config {
  const dir = mkdtempSync(join(tmpdir(), 'archibald-stack-env-'));
  try {
    const env: Record<string, string> = { ...data };
    for (const [name, value] of Object.entries(data)) {
      if (!name.endsWith('_FILE')) continue;
      const file = join(dir, value.split('/').pop() as string);
      writeFileSync(file, secretValue);
      env[name] = file;
    }
    const config = loadConfig(env);
    closeConfig(config);
    return config;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
