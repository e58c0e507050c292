/** DOCKER_HOST names the one engine to use: when it does not answer, the kit says so instead of falling back. */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { dockerHostProblem } from '../servers/containers.js';

describe('DOCKER_HOST', () => {
  test('when it is not set then there is nothing to check', async () => {
    expect(await dockerHostProblem('')).toBeUndefined();
  });

  test.each([
    [
      'unix:///nope/docker.sock',
      /^DOCKER_HOST=unix:\/\/\/nope\/docker.sock: no Docker engine answers there \(ENOENT\)\. Start it, or fix or unset DOCKER_HOST\.$/,
    ],
    ['tcp://127.0.0.1:1', /^DOCKER_HOST=tcp:\/\/127.0.0.1:1: no Docker engine answers there \(ECONNREFUSED\)/],
    ['docker.sock', /^DOCKER_HOST=docker.sock is not a URL/],
    ['ssh://user@host', /^DOCKER_HOST=ssh:\/\/user@host: the kit reaches Docker through unix:\/\/, npipe:\/\/ or tcp:\/\/ only$/],
  ])('when it is %s then the problem is one line', async (value, message) => {
    expect(await dockerHostProblem(value)).toMatch(message);
  });

  test('when something listens where it points then it is accepted', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'docker-host-')), 'docker.sock');
    const server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(path, r));
    try {
      expect(await dockerHostProblem(`unix://${path}`)).toBeUndefined();
    } finally {
      server.close();
    }
  });
});
