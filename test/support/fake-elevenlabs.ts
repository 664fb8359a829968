/**
 * A local fake of ElevenLabs' text-to-speech API (`POST /v1/text-to-speech/{voice_id}`,
 * `xi-api-key`, `{ text, model_id }`, `output_format` in the query) answering real MP3 audio: a
 * soft tone as long as the text would take to speak (about 15 characters a second), made by
 * ffmpeg, so the narration stage decodes and times it like the real answer.
 */
import { ffmpegOutput } from './ffmpeg-output.js';
import { startFakeServer, type FakeServer } from './fake-http.js';

export interface SpeechRequest {
  text: string;
  model_id: string;
}

export type FakeElevenLabs = FakeServer<SpeechRequest>;

/** Seconds of speech the fake answers for a text. */
export function spokenSeconds(text: string): number {
  return Math.max(0.6, Math.round((text.length / 15) * 10) / 10);
}

function mp3(seconds: number): Promise<Buffer> {
  return ffmpegOutput([
    '-f',
    'lavfi',
    '-i',
    `sine=f=220:d=${seconds}`,
    '-ac',
    '1',
    '-ar',
    '44100',
    '-b:a',
    '128k',
    '-f',
    'mp3',
  ]);
}

export function startFakeElevenLabs(): Promise<FakeElevenLabs> {
  return startFakeServer<SpeechRequest>({
    isCall: (method, path) => method === 'POST' && path.startsWith('/v1/text-to-speech/'),
    async answer(request, index, res) {
      if (!request.headers['xi-api-key']) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ detail: { status: 'invalid_api_key' } }));
        return;
      }
      const body = await mp3(spokenSeconds(request.body.text));
      res.writeHead(200, {
        'content-type': 'audio/mpeg',
        'request-id': `fake-${index}`,
        'x-character-count': String(request.body.text.length),
      });
      res.end(body);
    },
  });
}
