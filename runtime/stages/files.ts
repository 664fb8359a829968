import { access } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';

/** Whether every file exists; relative names are taken inside `dir`. */
export async function filesExist(dir: string, files: readonly string[]): Promise<boolean> {
  try {
    await Promise.all(files.map((f) => access(isAbsolute(f) ? f : join(dir, f))));
    return true;
  } catch {
    return false;
  }
}
