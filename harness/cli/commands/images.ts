import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';
import { c, out, step } from '../ui.js';

/** Every pinned image as one tarball, for a room without Wi-Fi (servers/image-archive.ts). */
export const images: Command = {
  name: 'images',
  args: 'save|load FILE',
  summary: 'save every image the kit uses to one tarball, or load it (for a room without Wi-Fi)',
  options: [],
  async run({ positionals }) {
    const [sub, file, ...rest] = positionals;
    if ((sub !== 'save' && sub !== 'load') || !file || rest.length)
      throw new UsageError('`lab images save FILE` writes every image the kit uses to FILE; `lab images load FILE` loads it');
    const { saveImages, loadImages } = await import('../../servers/image-archive.js');
    if (sub === 'save') {
      const r = await step(`Saving images to ${file}`, () => saveImages(file));
      out(`${r.images.join(', ')} → ${file} (${(r.bytes / 1e6).toFixed(0)} MB). On each machine: \`npx lab images load ${file}\`.`);
      return 0;
    }
    const r = await step(`Loading images from ${file}`, () => loadImages(file));
    if (r.images.length) out(`${c.green('✔')} loaded: ${r.images.join(', ')}`);
    if (r.missing.length) {
      out(
        `${c.red('✖')} ${file} did not hold: ${r.missing.join(', ')} (was it saved with the same LAB_POSTGRES_IMAGE / LAB_REDIS_IMAGE / LAB_NODE_IMAGE?)`,
      );
      return 1;
    }
    return 0;
  },
};
