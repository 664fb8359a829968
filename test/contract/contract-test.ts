import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { runPodContract } from './pod.js';

/**
 * One stack per test file: Pulumi's runtime is global per process. Needs root (mount and network
 * namespaces, chroot, setpriv), as CI and this machine run the tests.
 */
export function podContractTest(stack: string): void {
  test(
    `${stack}: the migration Job, API and worker run the compiled image as rendered (uid, HOME, read-only tree), pass their probes and render a 15 s video`,
    { timeout: 480_000 },
    async () => {
      const { video, s3, localFile, entrypoint, tmpFiles } = await runPodContract(stack);
      // The pods ran the compiled CLI the image's ENTRYPOINT names, not TypeScript through tsx,
      // under tini as in the image wherever this machine has tini (pod.ts entrypointHere).
      const node = ['node', '--enable-source-maps', '/app/dist/bin/archibald.js'];
      assert.deepEqual(entrypoint, existsSync('/usr/bin/tini') ? ['/usr/bin/tini', '--', ...node] : node);
      assert.deepEqual(
        Object.values(tmpFiles)
          .flat()
          .filter((f) => /(^|\/)tsx-/.test(f)),
        [],
        "no tsx compile cache in any pod's /tmp",
      );
      assert.equal(video.status, 'completed');
      const url = video.outputUrl ?? '';
      if (s3) {
        assert.ok(url.startsWith(`${s3.cdnBaseUrl}/`), `${url} is served by the CDN`);
        const key = url.slice(s3.cdnBaseUrl.length + 1);
        assert.ok(s3.keys.includes(`${s3.bucket}/${key}`), `${key} is in the bucket: ${s3.keys.join(', ')}`);
      } else {
        assert.equal(localFile?.status, 200, `${url} is served by the API`);
        assert.ok((localFile?.bytes ?? 0) > 10_000, 'the file holds a video');
      }
    },
  );
}
