/**
 * Every image the kit pins (images.ts), moved as one tarball: `lab images save FILE` on a machine
 * that has them, `lab images load FILE` on each machine of a room without Wi-Fi. The tarball is what
 * `docker save` writes and `docker load` reads, so either side may use the docker CLI instead.
 */
import { createReadStream, createWriteStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { getContainerRuntimeClient, ImageName } from 'testcontainers';
import { EnvironmentError, LabError } from '../errors.js';
import { dockerAvailable } from './containers.js';
import { IMAGES, ryukImage } from './images.js';

/**
 * The images the kit can start: every one images.ts pins (Postgres, Redis, the grading sandbox's
 * Node), and Testcontainers' reaper unless it is disabled.
 */
export function pinnedImages(): string[] {
  const ryuk = ryukImage();
  return [...Object.values(IMAGES), ...(ryuk ? [ryuk] : [])];
}

async function docker() {
  const d = await dockerAvailable();
  if (!d.ok) throw new EnvironmentError(`no Docker engine answers (${d.reason}): start Docker, then run this again`);
  return getContainerRuntimeClient();
}

export async function saveImages(file: string): Promise<{ images: string[]; bytes: number }> {
  const client = await docker();
  const images = pinnedImages();
  const missing: string[] = [];
  for (const i of images) if (!(await client.image.exists(ImageName.fromString(i)))) missing.push(i);
  if (missing.length)
    throw new LabError(`not on this machine, so not saved: ${missing.join(', ')}. Pull or build them first (\`lab doctor\` says how)`);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    // GET /images/get?names=…&names=… (what `docker save` calls); dockerode's types lack it.
    const dockerode = client.container.dockerode as unknown as { getImages(o: { names: string[] }): Promise<NodeJS.ReadableStream> };
    const stream = await dockerode.getImages({ names: images });
    await pipeline(stream, createWriteStream(tmp));
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new LabError(`cannot write ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  return { images, bytes: statSync(file).size };
}

export async function loadImages(file: string): Promise<{ images: string[]; missing: string[] }> {
  if (!existsSync(file) || !statSync(file).isFile())
    throw new LabError(`${file} is not a file: give the tarball \`lab images save\` wrote`);
  const client = await docker();
  const dockerode = client.container.dockerode;
  let answer = '';
  try {
    const stream = await dockerode.loadImage(createReadStream(file));
    for await (const chunk of stream as AsyncIterable<Buffer>) answer += chunk.toString();
  } catch (e) {
    throw new LabError(`Docker could not load ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const err = /"error(?:Detail)?":\s*"([^"]+)"/.exec(answer)?.[1] ?? /"message":\s*"([^"]+)"/.exec(answer)?.[1];
  if (err) throw new LabError(`Docker could not load ${file}: ${err}`);
  const images = pinnedImages();
  const missing: string[] = [];
  for (const i of images) if (!(await client.image.exists(ImageName.fromString(i)))) missing.push(i);
  return { images: images.filter((i) => !missing.includes(i)), missing };
}
