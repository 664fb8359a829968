import type { Aspect, Resolution, VideoSpec } from '../pipeline/stage.js';

const SHORT_SIDE: Record<Resolution, number> = { '720p': 720, '1080p': 1080 };

/** Pixel size of the video: the resolution names the short side, the aspect orients it. */
export function frameSize(spec: { aspect: Aspect; resolution: Resolution }): {
  width: number;
  height: number;
} {
  const short = SHORT_SIDE[spec.resolution];
  const long = Math.round((short * 16) / 9);
  switch (spec.aspect) {
    case '16:9':
      return { width: long, height: short };
    case '9:16':
      return { width: short, height: long };
    case '1:1':
      return { width: short, height: short };
  }
}

export type FrameSpec = Pick<VideoSpec, 'aspect' | 'resolution'>;
