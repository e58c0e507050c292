/**
 * Vitest globalSetup for a bare `vitest run` (harness/vitest.config.ts); the kit's own commands
 * use runner.ts instead. Uses the servers handed over in LAB_SERVICES, or starts the lab's own
 * through Testcontainers and stops them at the end. Then compiles the tree under test and builds
 * its template database.
 */
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildTree } from './build.js';
import { startServices, type Endpoints } from './servers/containers.js';
import { ensureTemplate } from './databases.js';
import { findLab } from './lab-schema.js';
import { assertOwnServers } from './servers/own-servers.js';
import { endpointsFor } from './runner.js';
import { farBehindSpecs } from './session.js';
import { trace } from './trace.js';
import type { ProvidedLab } from './testing/context.js';

export default async function setup(project: TestProject) {
  trace('global-setup');
  const slug = process.env.LAB_SLUG;
  if (!slug) throw new Error('LAB_SLUG is not set: run lab tests through `lab test`, or set LAB_SLUG and LAB_SRC');
  const lab = findLab(slug);
  const src = process.env.LAB_SRC ?? lab.srcDir;
  let endpoints: Endpoints;
  let stop: (() => Promise<void>) | undefined;
  if (process.env.LAB_SERVICES) {
    endpoints = endpointsFor(lab, JSON.parse(process.env.LAB_SERVICES) as Endpoints);
    await assertOwnServers(endpoints);
  } else {
    const started = await startServices(lab.services, { farBehind: farBehindSpecs([lab]) });
    endpoints = started.endpoints;
    stop = started.stop;
  }
  try {
    const template = endpoints.postgres ? await ensureTemplate(endpoints.postgres, join(src, 'schema.sql')) : '';
    const provided: ProvidedLab = { slug: lab.slug, src, build: buildTree(src), endpoints, template, settings: lab.settings };
    project.provide('lab', provided);
    trace('global-setup-done');
  } catch (e) {
    await stop?.();
    throw e;
  }
  return async () => {
    await stop?.();
  };
}
