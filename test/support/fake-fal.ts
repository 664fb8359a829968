/**
 * A local fake of FAL's synchronous model API (`POST /<model>`, `Authorization: Key <key>`,
 * `{ prompt, image_size, seed, num_images }`) answering `{ images: [{ url, width, height }] }` like
 * the real one, with the URLs on the fake itself (`GET /files/<w>x<h>-<seed>.jpg`), serving real
 * JPEGs made by ffmpeg at the requested size.
 */
import { ffmpegOutput } from './ffmpeg-output.js';
import { startFakeServer, type FakeReceived, type FakeServer } from './fake-http.js';

export interface ImageRequest {
  prompt: string;
  image_size: { width: number; height: number };
  seed: number;
  num_images: number;
}

export type FakeFal = FakeServer<ImageRequest> & {
  downloads: string[];
  /** Whether the safety checker flags a request's image (default never), as the real one reports it. */
  flagged: (request: FakeReceived<ImageRequest>, index: number) => boolean;
};

function jpeg(width: number, height: number, seed: number): Promise<Buffer> {
  return ffmpegOutput([
    '-f',
    'lavfi',
    '-i',
    `testsrc2=s=${width}x${height}:d=1`,
    '-vf',
    `hue=h=${seed % 360}`,
    '-frames:v',
    '1',
    '-f',
    'image2pipe',
    '-c:v',
    'mjpeg',
  ]);
}

export async function startFakeFal(): Promise<FakeFal> {
  const downloads: string[] = [];
  const fake = await startFakeServer<ImageRequest>({
    isCall: (method, path) => method === 'POST' && !path.startsWith('/files/'),
    async answer(request, index, res) {
      if (!/^Key \S+/.test(String(request.headers.authorization ?? ''))) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ detail: 'Missing or invalid key' }));
        return;
      }
      const { width, height } = request.body.image_size;
      res.writeHead(200, { 'content-type': 'application/json', 'x-fal-request-id': `fake-${index}` });
      res.end(
        JSON.stringify({
          images: [
            {
              url: `${fake.url}/files/${width}x${height}-${request.body.seed}.jpg`,
              width,
              height,
              content_type: 'image/jpeg',
            },
          ],
          timings: { inference: 0.4 },
          seed: request.body.seed,
          // `fake` gets `flagged` below, before any request comes.
          has_nsfw_concepts: [(fake as FakeFal).flagged(request, index)],
          prompt: request.body.prompt,
        }),
      );
    },
    async other(method, path, res) {
      const match = /^\/files\/(\d+)x(\d+)-(\d+)\.jpg$/.exec(path);
      if (method !== 'GET' || !match) return false;
      downloads.push(path);
      const body = await jpeg(Number(match[1]), Number(match[2]), Number(match[3]));
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(body);
      return true;
    },
  });
  return Object.assign(fake, { downloads, flagged: () => false });
}
