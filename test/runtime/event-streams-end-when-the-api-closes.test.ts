import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';

const environment = await useTestEnvironment();
const api = await startTestApi(environment);
const { key } = await createTestKey(environment);
const call = apiClient(api.url, key);

test('closing the API ends open event streams instead of waiting for their videos to finish', async () => {
  // No worker runs: the video stays queued, so only the close can end its stream.
  const created = await call('POST', '/v1/videos', { body: { topic: 'watched during a deploy' } });
  assert.equal(created.status, 202);
  const response = await fetch(new URL(created.body.links.events, api.url), {
    headers: { authorization: `Bearer ${key}` },
  });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = decoder.decode((await reader.read()).value, { stream: true });
  assert.match(text, /^event: status\ndata: \{"status":"queued"/);

  // Without ending the stream, close() would wait for this video to finish.
  await api.close();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
    text += decoder.decode(chunk.value, { stream: true });
  assert.doesNotMatch(text, /event: end/);
});
