/**
 * Renders through a running API: submits the request, follows the job until it ends, and
 * downloads the video and its captions when asked to. Interrupting cancels the job.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { VideoSpec } from '../pipeline/stage.js';

export interface ApiVideo {
  id: string;
  status: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
  stage: string | null;
  progress: number;
  outputUrl: string | null;
  captionsUrl: string | null;
  error: { stage: string | null; message: string } | null;
  links: { self: string; file: string };
}

export interface ApiRender {
  apiUrl: string;
  apiKey: string;
  spec: Omit<VideoSpec, 'seed'> & { seed?: string };
  /** Download the video here (and its captions beside it); absent: leave it in storage. */
  out?: string;
  signal: AbortSignal;
  onProgress(stage: string | null, percent: number): void;
  pollMs?: number;
}

export class ApiRenderError extends Error {
  override readonly name = 'ApiRenderError';
}

export async function renderThroughApi(request: ApiRender): Promise<{ video: ApiVideo; file?: string }> {
  const base = request.apiUrl.replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${request.apiKey}`, 'content-type': 'application/json' };
  const call = async (method: string, path: string, body?: unknown): Promise<ApiVideo> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).catch((error: unknown) => {
      throw new ApiRenderError(
        `cannot reach the API at ${base}: ${(error as Error).cause ?? (error as Error).message}`,
      );
    });
    const text = await response.text();
    if (!response.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new ApiRenderError(`${method} ${path} answered ${response.status}: ${message}`);
    }
    return JSON.parse(text) as ApiVideo;
  };

  let video = await call('POST', '/v1/videos', request.spec);
  const cancel = () => void call('DELETE', `/v1/videos/${video.id}`).catch(() => {});
  request.signal.addEventListener('abort', cancel, { once: true });
  try {
    while (video.status === 'queued' || video.status === 'running') {
      request.onProgress(video.stage, video.progress);
      await delay(request.pollMs ?? 400, undefined, { signal: request.signal }).catch(() => {
        throw new ApiRenderError('interrupted: the job was cancelled');
      });
      video = await call('GET', `/v1/videos/${video.id}`);
    }
  } finally {
    request.signal.removeEventListener('abort', cancel);
  }
  if (video.status === 'failed') {
    throw new ApiRenderError(
      `the render failed in the ${video.error?.stage ?? 'unknown'} stage: ${video.error?.message ?? 'no message'}`,
    );
  }
  if (video.status === 'cancelled') throw new ApiRenderError('the render was cancelled');
  request.onProgress('done', 100);
  if (!request.out) return { video };
  await download(`${base}${video.links.file}`, headers, request.out);
  await download(
    `${base}${video.links.self}/captions`,
    headers,
    request.out.replace(/\.mp4$/i, '') + '.vtt',
  ).catch(() => {});
  return { video, file: request.out };
}

async function download(url: string, headers: Record<string, string>, to: string): Promise<void> {
  const response = await fetch(url, { headers: { authorization: headers.authorization ?? '' } });
  if (!response.ok || !response.body) throw new ApiRenderError(`GET ${url} answered ${response.status}`);
  await mkdir(dirname(to), { recursive: true });
  const partial = `${to}.part`;
  try {
    await pipeline(
      Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
      createWriteStream(partial),
    );
    await rename(partial, to);
  } finally {
    await rm(partial, { force: true });
  }
}
