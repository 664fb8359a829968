import { probeMedia } from '../media/ffmpeg.js';

/** One line about a rendered file, from ffprobe: length, size in pixels, codecs, bytes. */
export async function describeVideo(file: string): Promise<string> {
  const info = await probeMedia(file);
  const video = info.streams.find((s) => s.type === 'video');
  const audio = info.streams.find((s) => s.type === 'audio');
  const parts = [
    `${info.durationSeconds.toFixed(1)} s`,
    video
      ? `${video.width}x${video.height} ${video.codec} ${video.frameRate ? `${Math.round(video.frameRate)} fps` : ''}`.trim()
      : 'no video',
    audio ? `${audio.codec} ${audio.sampleRate ? `${audio.sampleRate / 1000} kHz` : ''}`.trim() : 'no audio',
    `${(info.sizeBytes / 1_000_000).toFixed(1)} MB`,
  ];
  return parts.join(', ');
}
