/**
 * Vitest globalSetup for every lab run. Uses the servers handed over in LAB_SERVICES (the CLI
 * starts them once and reuses them across runs), or starts the lab's own through Testcontainers
 * and stops them at the end. Then builds the template database for the tree under test.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startServices, type Endpoints } from './containers.js';
import { ensureTemplate } from './databases.js';
import { findLab } from './lab-schema.js';
import { trace } from './trace.js';
import type { ProvidedLab } from './testing/context.js';

export default async function setup(project: TestProject) {
  trace('global-setup');
  const slug = process.env.LAB_SLUG;
  if (!slug) throw new Error('LAB_SLUG is not set: run lab tests through `lab test`, or set LAB_SLUG and LAB_SRC');
  const lab = findLab(slug);
  const src = process.env.LAB_SRC ?? lab.srcDir;
  if (process.env.LAB_COLLECT_ONLY) {
    // `vitest list`: tests are only collected, never run, so no server is needed.
    project.provide('lab', { slug: lab.slug, src, endpoints: {}, template: '', settings: lab.settings });
    return;
  }
  let endpoints: Endpoints;
  let stop: (() => Promise<void>) | undefined;
  if (process.env.LAB_SERVICES) {
    endpoints = JSON.parse(process.env.LAB_SERVICES) as Endpoints;
    // Servers shared by several labs: a lab sees only those it declares.
    if (!lab.services.includes('replica')) delete endpoints.replica;
    if (!lab.services.includes('redis')) delete endpoints.redis;
  } else {
    const started = await startServices(lab.services);
    endpoints = started.endpoints;
    stop = started.stop;
  }
  try {
    let schemaSeen: string | undefined;
    const provideLab = async () => {
      const schema = readIfThere(join(src, 'schema.sql'));
      if (schema !== undefined && schema === schemaSeen) return;
      schemaSeen = schema;
      const template = endpoints.postgres ? await ensureTemplate(endpoints.postgres, join(src, 'schema.sql')) : '';
      const provided: ProvidedLab = { slug: lab.slug, src, endpoints, template, settings: lab.settings };
      project.provide('lab', provided);
    };
    await provideLab();
    trace('global-setup-done');
    // Watch mode runs this setup once: a schema.sql saved since needs its own template.
    project.onTestsRerun(provideLab);
  } catch (e) {
    await stop?.();
    throw e;
  }
  return async () => {
    await stop?.();
  };
}

function readIfThere(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
