import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';
import { c, out, step } from '../ui.js';

const USAGE = [
  '`lab workshop` runs a workshop for a room:',
  '  lab workshop serve [--host H] [--port P] [--database-url URL | --volume NAME]   on the instructor’s machine',
  '  lab workshop join URL --name NAME                                             on each attendee’s machine',
  '  lab workshop leave                                                            stop reporting',
].join('\n');

/** The instructor's live scoreboard, and the attendees' side of it. */
export const workshop: Command = {
  name: 'workshop',
  args: 'serve|join|leave …',
  summary: 'run a workshop: a live scoreboard for the room (serve), and report to it (join, leave)',
  options: [
    {
      name: 'host',
      type: 'string',
      value: 'H',
      description: 'serve: the address to listen on (default 0.0.0.0, every interface; 127.0.0.1 for this machine only)',
    },
    { name: 'port', type: 'string', value: 'P', description: 'serve: the port (default 4000)' },
    { name: 'database-url', type: 'string', value: 'URL', description: 'serve: keep the board in this Postgres instead of starting one' },
    {
      name: 'volume',
      type: 'string',
      value: 'NAME',
      description: 'serve: the Docker volume its own Postgres keeps its data in (default backend-labs-workshop)',
    },
    { name: 'name', type: 'string', value: 'NAME', description: 'join: your name on the board (up to 40 characters)' },
  ],
  async run({ positionals, options }) {
    const [sub, ...args] = positionals;
    const client = () => import('../../workshop/client.js');
    switch (sub) {
      case 'serve': {
        if (args.length) throw new UsageError('`lab workshop serve` takes no arguments, only options');
        const port = options.port === undefined ? undefined : Number(options.port);
        if (options.port !== undefined && (!/^\d+$/.test(String(options.port)) || port! > 65535))
          throw new UsageError(`--port takes a port number (0 picks a free one), not "${options.port}"`);
        const { startWorkshopServer, DEFAULT_VOLUME } = await import('../../workshop/server.js');
        const databaseUrl = options['database-url'] as string | undefined;
        if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl))
          throw new UsageError(`--database-url takes a postgres:// URL, not "${databaseUrl}"`);
        const volume = (options.volume as string | undefined) ?? DEFAULT_VOLUME;
        const s = await step(
          databaseUrl ? 'Opening the workshop database' : `Starting the workshop's Postgres (data in Docker volume ${volume})`,
          () => startWorkshopServer({ databaseUrl, volume, host: options.host as string | undefined, port }),
        );
        out();
        out(`${c.bold('Scoreboard')}  ${s.url}/        (put it on the projector)`);
        out(`${c.bold('Attendees')}   npx lab workshop join ${s.url} --name "Their Name"`);
        out(`${c.bold('Admin')}       ${s.adminUrl}`);
        out(`${c.bold('Admin token')} ${s.adminToken}   (keep it to yourself; the same after a restart)`);
        out(c.dim('\nThe board is self-reported pacing, not grades: grade with `lab grade`. Ctrl-C stops the server; the board is kept.'));
        await new Promise<void>((resolve) => {
          const stop = () => void s.close().finally(resolve);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        return 0;
      }
      case 'join': {
        if (args.length !== 1)
          throw new UsageError('`lab workshop join` takes the server’s URL, e.g. `lab workshop join http://192.168.1.20:4000 --name Ada`');
        const name = options.name as string | undefined;
        if (!name?.trim()) throw new UsageError('add your name for the board: --name "Ada Lovelace"');
        const { joinWorkshop } = await client();
        const config = await joinWorkshop(args[0]!, name);
        out(`Joined ${config.url} as ${config.name}. Every \`lab test\`, \`lab watch\` rerun and \`lab hint\` now reports to the board.`);
        if (config.room?.currentLab) out(`The room is on ${config.room.currentLab}.`);
        return 0;
      }
      case 'leave': {
        if (args.length) throw new UsageError('`lab workshop leave` takes no arguments');
        const { leaveWorkshop } = await client();
        const { config, unsent } = await leaveWorkshop();
        if (!config) {
          out('Not in a workshop: nothing reports anywhere.');
          return 0;
        }
        out(
          `Left ${config.url}: nothing reports to it any more.${unsent ? ` ${unsent} report(s) it had not received yet were discarded.` : ''}`,
        );
        return 0;
      }
      case 'flush': {
        // Started detached by a run (client.ts sendInBackground); also usable by hand.
        const { flushQueue, workshopDir } = await client();
        const r = await flushQueue(process.env.LAB_WORKSHOP_DIR ?? workshopDir(), { retryForMs: 120_000 });
        out(`sent ${r.sent}, ${r.left} left${r.stopped ? ` (${r.stopped})` : ''}`);
        return r.left ? 1 : 0;
      }
      default:
        throw new UsageError(sub ? `unknown workshop command "${sub}"\n${USAGE}` : USAGE);
    }
  },
};
