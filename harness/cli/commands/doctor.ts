import { IMAGES, ryukImage } from '../../servers/images.js';
import { loadLabs } from '../../lab-schema.js';
import type { Command } from '../command.js';
import { c, out } from '../ui.js';

/** Checks what the kit needs: Node, a reachable Docker daemon, the images, and every lab.json. */
export const doctor: Command = {
  name: 'doctor',
  summary: 'check Node, Docker, the images, disk and the labs, start a test container: ready for the workshop?',
  options: [],
  async run() {
    const failed: string[] = [];
    const line = (good: boolean, what: string, fix?: string) => {
      out(`${good ? c.green('✔') : c.red('✖')} ${what}${!good && fix ? `\n    ${fix}` : ''}`);
      if (!good) failed.push(what);
    };
    const major = Number(process.versions.node.split('.')[0]);
    line(major >= 20, `Node ${process.versions.node}`, 'the kit needs Node 20 or newer');
    const { dockerAvailable, imagePresent } = await import('../../servers/containers.js');
    const d = await dockerAvailable();
    line(
      d.ok,
      d.ok ? `Docker daemon reachable (API ${d.version})` : 'Docker daemon not reachable',
      'start Docker (Docker Desktop, or `sudo dockerd`), then run `lab doctor` again',
    );
    if (d.ok) {
      for (const [what, image] of Object.entries(IMAGES)) {
        const here = await imagePresent(image);
        line(
          here,
          here ? `${what} image ${image} is present` : `${what} image ${image} is not on this machine`,
          `\`docker pull ${image}\` while online, or \`lab images load FILE\` from the instructor's tarball; offline, build stand-ins with \`bash docker/build-images.sh\` and set LAB_${what.toUpperCase()}_IMAGE`,
        );
      }
      const ryuk = ryukImage();
      if (!ryuk) line(true, "Testcontainers' reaper (Ryuk) is disabled: the kit stops its own containers");
      else if (await imagePresent(ryuk)) line(true, `Testcontainers' reaper image ${ryuk} is present`);
      else
        line(
          false,
          `Testcontainers' reaper image ${ryuk} is not on this machine`,
          '`docker pull` it while online, or set TESTCONTAINERS_RYUK_DISABLED=true (the kit stops its own containers without it)',
        );
    }
    try {
      const labs = loadLabs();
      line(true, `${labs.length} labs, every lab.json valid`);
    } catch (e) {
      line(false, (e as Error).message);
    }
    const { roomChecks, verdict } = await import('../../workshop/readiness.js');
    await roomChecks(line, d.ok && failed.length === 0);
    out(verdict(failed));
    return failed.length ? 1 : 0;
  },
};
