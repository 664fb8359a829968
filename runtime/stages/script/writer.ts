import type { VideoSpec } from '../../pipeline/stage.js';
import type { ScriptDocument } from './document.js';

/** Writes a meditation script for a spec. Offline now; model-backed writers come later. */
export interface ScriptWriter {
  readonly name: string;
  write(spec: VideoSpec, signal: AbortSignal): Promise<ScriptDocument>;
}
