import type { Stage, StageContext } from '../../pipeline/stage.js';
import { StageError } from '../../pipeline/stage.js';
import type { ScriptDocument } from './document.js';
import { validateScript } from './document.js';
import type { ScriptWriter } from './writer.js';

export type ScriptOutput = ScriptDocument;

/** Writes the script and refuses to pass on one that fails validation. */
export function createScriptStage(writer: ScriptWriter): Stage<ScriptOutput> {
  return {
    name: 'script',
    async run(ctx: StageContext): Promise<ScriptOutput> {
      const doc = await writer.write(ctx.spec, ctx.signal, {
        addCost: ctx.addCost,
        spentUsd: ctx.spentUsd,
        log: ctx.log,
      });
      const problems = validateScript(doc, ctx.spec);
      if (problems.length > 0) {
        throw new StageError(
          'script',
          `the ${writer.name} writer produced an unusable script: ${problems.join('; ')}`,
        );
      }
      ctx.progress(1);
      ctx.log.debug({ words: doc.wordCount, writer: doc.writer }, 'script written');
      return doc;
    },
  };
}
