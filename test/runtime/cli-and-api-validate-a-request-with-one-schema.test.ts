import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { CreateVideoBody } from '../../runtime/api/schemas.js';
import { validatorFor } from '../../runtime/api/validation.js';
import { renderCommand } from '../../runtime/cli/commands/render.js';
import { CliError } from '../../runtime/cli/run.js';
import { VIDEO_DEFAULTS } from '../../runtime/pipeline/stage.js';
import {
  renderRequest,
  RenderRequestError,
  requestBody,
  STANDARD_VIDEO,
  type RenderFlags,
} from '../../runtime/render/request.js';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';

const environment = await useTestEnvironment();
const api = await startTestApi(environment);
const { key } = await createTestKey(environment);
const call = apiClient(api.url, key);

/** [case, topic, flags as commander parses them, the same request as a JSON body, accepted?, flag named] */
const cases: Array<[string, string, RenderFlags, Record<string, unknown>, boolean, string?]> = [
  ['a topic alone', 'calm sea', {}, { topic: 'calm sea' }, true],
  ['an empty topic', '', {}, { topic: '' }, false, 'the topic'],
  ['a blank topic', '   ', {}, { topic: '   ' }, false, 'the topic'],
  ['a topic of 200 characters', 'x'.repeat(200), {}, { topic: 'x'.repeat(200) }, true],
  ['a topic of 201 characters', 'x'.repeat(201), {}, { topic: 'x'.repeat(201) }, false, 'the topic'],
  ['a topic with a newline', 'calm\nsea', {}, { topic: 'calm\nsea' }, false, 'the topic'],
  ['a topic with spaces around it', ' calm sea ', {}, { topic: ' calm sea ' }, true],
  ['duration 14', 't', { duration: '14' }, { topic: 't', durationSeconds: 14 }, false, '--duration'],
  ['duration 15', 't', { duration: '15' }, { topic: 't', durationSeconds: 15 }, true],
  ['duration 600', 't', { duration: '600' }, { topic: 't', durationSeconds: 600 }, true],
  ['duration 601', 't', { duration: '601' }, { topic: 't', durationSeconds: 601 }, false, '--duration'],
  ['duration abc', 't', { duration: 'abc' }, { topic: 't', durationSeconds: 'abc' }, false, '--duration'],
  ['duration 60.5', 't', { duration: '60.5' }, { topic: 't', durationSeconds: 60.5 }, false, '--duration'],
  ['aspect 4:3', 't', { aspect: '4:3' }, { topic: 't', aspect: '4:3' }, false, '--aspect'],
  ['aspect 9:16', 't', { aspect: '9:16' }, { topic: 't', aspect: '9:16' }, true],
  ['resolution 4k', 't', { resolution: '4k' }, { topic: 't', resolution: '4k' }, false, '--resolution'],
  ['resolution 1080p', 't', { resolution: '1080p' }, { topic: 't', resolution: '1080p' }, true],
  ['voice hal9000', 't', { voice: 'hal9000' }, { topic: 't', voice: 'hal9000' }, false, '--voice'],
  ['voice kal16', 't', { voice: 'kal16' }, { topic: 't', voice: 'kal16' }, true],
  ['style angry', 't', { style: 'angry' }, { topic: 't', style: 'angry' }, false, '--style'],
  ['style sleep', 't', { style: 'sleep' }, { topic: 't', style: 'sleep' }, true],
  ['seed of 64 characters', 't', { seed: 's'.repeat(64) }, { topic: 't', seed: 's'.repeat(64) }, true],
  [
    'seed of 65 characters',
    't',
    { seed: 's'.repeat(65) },
    { topic: 't', seed: 's'.repeat(65) },
    false,
    '--seed',
  ],
  ['an empty seed', 't', { seed: '' }, { topic: 't', seed: '' }, false, '--seed'],
  ['a seed with a space', 't', { seed: 'a b' }, { topic: 't', seed: 'a b' }, false, '--seed'],
  ['captions not burnt', 't', { burnCaptions: false }, { topic: 't', burnCaptions: false }, true],
];

function cliVerdict(
  topic: string,
  flags: RenderFlags,
): { accepted: true } | { accepted: false; message: string } {
  try {
    renderRequest(topic, flags);
    return { accepted: true };
  } catch (error) {
    assert.ok(error instanceof RenderRequestError, String(error));
    return { accepted: false, message: error.message };
  }
}

for (const [name, topic, flags, body, accepted, flag] of cases) {
  test(`the CLI and POST /v1/videos both ${accepted ? 'accept' : 'reject'} ${name}`, async () => {
    assert.deepEqual(requestBody(topic, flags), body, 'the flags make this body');
    const cli = cliVerdict(topic, flags);
    const response = await call('POST', '/v1/videos', { body });
    assert.equal(response.status, accepted ? 202 : 400, JSON.stringify(response.body));
    assert.equal(cli.accepted, accepted, cli.accepted ? 'the CLI accepted it' : cli.message);
    if (!cli.accepted && flag) {
      assert.ok(cli.message.startsWith(`${flag} `), `${JSON.stringify(cli.message)} names ${flag}`);
      // The rule is the one the API gives for that field.
      const detail = (response.body.details as Array<{ field: string; message: string }>)[0];
      assert.ok(detail, JSON.stringify(response.body));
      assert.ok(cli.message.includes(detail.message), `${cli.message} / ${detail.message}`);
    }
  });
}

test('the CLI and the API fill in the same defaults, the ones in VIDEO_DEFAULTS', async () => {
  const cli = renderRequest('defaults', { seed: 'same' });
  const response = await call('POST', '/v1/videos', { body: { topic: 'defaults', seed: 'same' } });
  assert.equal(response.status, 202, JSON.stringify(response.body));
  assert.deepEqual(response.body.request, cli);
  assert.deepEqual(cli, { topic: 'defaults', seed: 'same', ...VIDEO_DEFAULTS });
  assert.deepEqual(STANDARD_VIDEO, { topic: 'morning calm', ...VIDEO_DEFAULTS });
});

test('the request validator is compiled once and shared, from a schema that carries VIDEO_DEFAULTS', () => {
  assert.equal(validatorFor(CreateVideoBody, 'body'), validatorFor(CreateVideoBody, 'body'));
  // The schema is where the defaults are applied: it carries VIDEO_DEFAULTS.
  const properties = CreateVideoBody.properties as Record<string, { default?: unknown }>;
  for (const [field, value] of Object.entries(VIDEO_DEFAULTS))
    assert.equal(properties[field]?.default, value, `${field} default`);
});

async function render(args: string[]): Promise<void> {
  const program = new Command('archibald').exitOverride();
  renderCommand(program);
  await program.parseAsync(['node', 'archibald', 'render', ...args]);
}

test('archibald render stops with exit code 2 and names every bad flag and its rule', async () => {
  for (const [args, message] of [
    [['x', '--duration', '14'], /^--duration must be >= 15 \(got "14"\)$/],
    [['x', '--duration', 'abc'], /^--duration must be integer \(got "abc"\)$/],
    [['x', '--aspect', '4:3'], /^--aspect must be one of "16:9", "9:16", "1:1" \(got "4:3"\)$/],
    [['x', '--seed', 'a b'], /^--seed must match/],
    [
      ['', '--voice', 'hal9000'],
      /^the topic must be at least 1 characters \(got ""\); --voice must be one of/,
    ],
    [['x', '--out', 'video.mov'], /^--out must name an \.mp4 file$/],
  ] as const) {
    await assert.rejects(render([...args]), (error: unknown) => {
      assert.ok(error instanceof CliError, String(error));
      assert.equal(error.exitCode, 2);
      assert.match(error.message, message);
      return true;
    });
  }
});
