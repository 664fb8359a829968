import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runPodContract } from './pod.js';

/**
 * One stack per test file: Pulumi's runtime is global per process. Needs root (mount and network
 * namespaces, chroot, setpriv), as CI and this machine run the tests.
 */
export function podContractTest(stack: string): void {
  test(
    `${stack}: the migration Job, API and worker run as rendered, pass their probes and render a video`,
    { timeout: 240_000 },
    async () => {
      const result = await runPodContract(stack);
      assert.equal(result.video.status, 'completed');
      if (result.s3Objects.length > 0 || result.additions.AWS_ACCESS_KEY_ID) {
        assert.ok(
          result.s3Objects.some((o) => o.endsWith('.mp4') || o.includes('.mp4')),
          `the video was published to the bucket: ${result.s3Objects.join(', ')}`,
        );
      }
    },
  );
}
