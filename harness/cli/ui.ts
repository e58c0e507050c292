/** Terminal output: colour and a spinner on a TTY, plain lines otherwise (CI, pipes). */
const tty = process.stdout.isTTY && !process.env.NO_COLOR && process.env.CI !== 'true';

const paint = (code: string) => (s: string) => (tty ? `\u001b[${code}m${s}\u001b[0m` : s);
export const c = { green: paint('32'), red: paint('31'), yellow: paint('33'), dim: paint('2'), bold: paint('1'), cyan: paint('36') };

export function out(line = ''): void {
  process.stdout.write(line + '\n');
}

/** Shows a spinner while work runs (TTY only), then one line with how long it took. */
export async function step<T>(label: string, work: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  if (tty) {
    const frames = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
    let i = 0;
    timer = setInterval(() => process.stdout.write(`\r${frames[i++ % frames.length]} ${label}…`), 80);
  } else out(`${label}…`);
  try {
    const v = await work();
    if (tty) process.stdout.write(`\r✔ ${label} ${c.dim(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`)}\n`);
    else out(`${label}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return v;
  } catch (e) {
    if (tty) process.stdout.write(`\r✖ ${label}\n`);
    throw e;
  } finally {
    if (timer) clearInterval(timer);
  }
}
