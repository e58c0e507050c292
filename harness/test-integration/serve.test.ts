/**
 * `lab serve` and `lab load`, end to end: the real CLI, containers and all. k6 cannot be installed
 * here, so `lab load` runs a stand-in k6 that records its command line and environment and reads
 * the served port, as the real one would.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { expect, test } from 'vitest';
import { ROOT } from '../paths.js';
import { OWNER_LABEL } from '../servers/owner.js';

const BIN = join(ROOT, 'harness', 'cli', 'bin.js');

async function containersOf(pid: number): Promise<number> {
  const client = await getContainerRuntimeClient();
  return (await client.container.dockerode.listContainers({ all: true, filters: { label: [`${OWNER_LABEL}=${pid}`] } })).length;
}

test('when a lab is served then curl reads its seed data through the round-robin port, and Ctrl-C leaves no container', async () => {
  const child = spawn(process.execPath, [BIN, 'serve', 'deadlocks', '--solution', '--instances', '2', '--port', '0'], {
    env: { ...process.env, CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not served within 120 s:\n${output}`)), 120_000);
    const look = () => {
      const m = /is served at (http:\/\/127\.0\.0\.1:\d+) \(2 instances, round-robin\)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      } else setTimeout(look, 100);
    };
    look();
  });
  expect(output).toMatch(/instance 2 {2}http:\/\/127\.0\.0\.1:\d+/);
  expect(output).toMatch(/database {4}psql 'postgres:\/\/svc_/);
  const accounts = await Promise.all(
    [1, 2, 3, 4].map((id) => fetch(`${url}/accounts/${id}`).then((r) => r.json() as Promise<{ balanceCents: number }>)),
  );
  expect(accounts.map((a) => a.balanceCents)).toEqual([1_000_000, 1_000_000, 1_000_000, 1_000_000]);
  const t = await fetch(`${url}/transfers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: 1, to: 2, amountCents: 250 }),
  });
  expect(t.status).toBe(201);
  // The next request goes to the other instance, which sees the same database.
  expect(((await (await fetch(`${url}/accounts/2`)).json()) as { balanceCents: number }).balanceCents).toBe(1_000_250);
  expect(await containersOf(child.pid!)).toBeGreaterThan(0);
  child.kill('SIGINT');
  await exited;
  expect(await containersOf(child.pid!)).toBe(0);
}, 180_000);

test('when k6 is on PATH then lab load runs the lab’s script against the served port', () => {
  const bin = mkdtempSync(join(tmpdir(), 'fake-k6-'));
  const record = join(bin, 'record.json');
  // A stand-in k6: answers `k6 version`, and for `k6 run` records what it was given and what the port serves.
  writeFileSync(
    join(bin, 'k6'),
    [
      `#!${process.execPath}`,
      "if (process.argv[2] === 'version') { console.log('k6 v0 (stand-in)'); process.exit(0); }",
      "fetch(process.env.BASE_URL + '/accounts/3')",
      '  .then((r) => r.json())',
      `  .then((account) => require('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv.slice(2), baseUrl: process.env.BASE_URL, account })));`,
      '',
    ].join('\n'),
  );
  chmodSync(join(bin, 'k6'), 0o755);
  const r = spawnSync(process.execPath, [BIN, 'load', 'deadlocks', '--solution'], {
    env: { ...process.env, CI: 'true', PATH: `${bin}:${process.env.PATH}` },
    encoding: 'utf8',
    timeout: 180_000,
  });
  expect(r.status, r.stdout + r.stderr).toBe(0);
  const got = JSON.parse(readFileSync(record, 'utf8'));
  expect(got.argv).toEqual(['run', join(ROOT, 'labs', '01-deadlocks', 'load', 'script.ts')]);
  expect(got.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(got.account).toMatchObject({ id: 3, balanceCents: 1_000_000 });
}, 200_000);

test('when k6 is not installed then lab load says how to get it and where the script is, in one line, before starting anything', () => {
  const r = spawnSync(process.execPath, [BIN, 'load', 'deadlocks'], { env: { ...process.env, PATH: '/nonexistent' }, encoding: 'utf8' });
  expect(r.status).toBe(1);
  expect(r.stderr.trim().split('\n')).toEqual([
    'lab: k6 is not installed: see https://grafana.com/docs/k6/latest/set-up/install-k6/ . The script is labs/01-deadlocks/load/script.ts; `lab serve deadlocks` serves the lab for it',
  ]);
  expect(r.stdout).not.toMatch(/Starting/);
});
