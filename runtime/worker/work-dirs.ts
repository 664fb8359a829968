/**
 * Work directories: WORK_DIR/<video id>/<attempt>/, one per attempt of a video, named after the
 * attempt's job token. Two attempts of one video (an attempt that lost its lock still running while
 * another took the job over, in the same process or another) never write the same files.
 *
 * Stages name their files relative to their work directory, so a new attempt starts from a copy of
 * the directories of the attempts whose completed stages it may reuse (copies, not hard links: an
 * earlier attempt still running could otherwise rewrite the new attempt's files in place). The
 * directories of a video are removed once it is final.
 */
import { constants } from 'node:fs';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** The directory of all attempts of a video. */
export function videoDir(root: string, videoId: string): string {
  return join(root, videoId);
}

/** The directory of one attempt; the token is BullMQ's ("<worker id>:<n>"), made a safe file name. */
export function attemptDir(root: string, videoId: string, token: string): string {
  return join(videoDir(root, videoId), token.replace(/[^A-Za-z0-9._-]/g, '_'));
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * Copies `from` into `to`, later files replacing earlier ones. Files that vanish while it copies
 * (another attempt still writing, or the video's directories being removed) are skipped: a stage
 * whose files are incomplete is not reusable and runs again.
 */
async function copyTree(from: string, to: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(from, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return;
    throw error;
  }
  await mkdir(to, { recursive: true });
  for (const entry of entries) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) await copyTree(source, target);
    else if (entry.isFile())
      await copyFile(source, target, constants.COPYFILE_FICLONE).catch((error: unknown) => {
        if (!isMissing(error)) throw error;
      });
  }
}

/**
 * Creates the attempt's directory, seeded with the files of the given earlier attempts (oldest
 * first). Returns the directory.
 */
export async function prepareAttemptDir(
  root: string,
  videoId: string,
  token: string,
  seedFrom: readonly string[],
): Promise<string> {
  const dir = attemptDir(root, videoId, token);
  await mkdir(dir, { recursive: true });
  for (const earlier of seedFrom) {
    if (earlier === token) continue;
    await copyTree(attemptDir(root, videoId, earlier), dir);
  }
  return dir;
}

/** Removes every attempt's directory of a video. */
export async function removeVideoDirs(root: string, videoId: string): Promise<void> {
  await rm(videoDir(root, videoId), { recursive: true, force: true });
}
