/**
 * `lab interview`: the session driven by a script of lines (what it shows, in order, and what it
 * records), the same through the real CLI in a pseudo-terminal (util-linux `script`), and without a
 * terminal, where it prints the card for reading and records nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { interview, interviewForReading, type InterviewIO, type InterviewPlan } from '../interview.js';
import type { Evidence } from '../evidence.js';
import { findLab } from '../lab-schema.js';
import { ROOT } from '../paths.js';
import type { Status } from '../progress.js';
import { bank } from '../questions.js';
import type { Painter } from '../report.js';

const plain: Painter = { green: (s) => s, red: (s) => s, yellow: (s) => s, dim: (s) => s, bold: (s) => s };
const golden = (f: string) => join(import.meta.dirname, 'golden', f);
const bin = join(ROOT, 'harness', 'cli', 'bin.js');

const deadlocks = findLab('deadlocks');
const evidence: Evidence = {
  before: [
    { name: 'deadlocks', value: 45 },
    { name: 'transfers succeeded', value: 15, of: 60 },
    { name: 'money created', value: 10_500, unit: 'cents' },
  ],
  after: [
    { name: 'deadlocks', value: 0 },
    { name: 'transfers succeeded', value: 60, of: 60 },
    { name: 'money created', value: 0, unit: 'cents' },
  ],
};
const passing: Status = { kind: 'passing', entry: { passed: 7, total: 7, points: 12, maxPoints: 12, at: '', seal: '' } };
const plan: InterviewPlan = {
  lab: deadlocks,
  cards: [bank().find((c) => c.number === 28)!],
  evidence,
  labsFor: (n) => (n === 28 ? [deadlocks] : []),
  status: () => passing,
};

/** An InterviewIO that answers from a script of lines, and logs each countdown it was asked for. */
function scripted(lines: string[]) {
  const out: string[] = [];
  const io: InterviewIO = {
    write: (t) => void out.push(t),
    readLine: async () => lines.shift(),
    countdown: (s) => {
      out.push(`[timer ${s} s]`);
      return () => out.push('[timer stopped]\n');
    },
    width: 100,
  };
  return { io, text: () => out.join('') };
}

describe('an interview, from a script of lines', () => {
  test('when the learner presses Enter each time then every part is revealed in order and all is practised', async () => {
    const s = scripted(['', '', '', '']);
    const practised = await interview(plan, s.io, plain);
    expect(practised).toEqual([{ question: 28, answered: true, followUps: [0, 1, 2] }]);
    const text = s.text();
    // The question and the evidence first, then a 2-minute timer (advanced), before any answer.
    expect(text.indexOf('What causes a deadlock')).toBeLessThan(text.indexOf('deadlocks                      45  →  0'));
    expect(text.indexOf('[timer 120 s]')).toBeLessThan(text.indexOf('The model answer'));
    expect(text.split('[timer 120 s]')).toHaveLength(5);
    await expect(text).toMatchFileSnapshot(golden('interview-deadlocks.txt'));
  });

  test('when the learner types q then the interview stops and keeps what was practised so far', async () => {
    const s = scripted(['', '', 'q']);
    const recorded: string[] = [];
    const record = (p: { answered: boolean; followUps: number[] }) => void recorded.push(JSON.stringify(p.followUps));
    expect(await interview(plan, s.io, plain, record)).toEqual([{ question: 28, answered: true, followUps: [0] }]);
    // Each step is handed over as it is practised: an interrupted session loses nothing.
    expect(recorded).toEqual(['[]', '[0]']);
    expect(s.text()).toMatch(/Stopped\. Question 28: answer \+ 1 follow-up practised\.\n$/);
    expect(s.text()).not.toContain('Follow-up 3 of 3');
  });

  test('when input ends before the first answer then nothing is practised', async () => {
    const s = scripted([]);
    expect(await interview(plan, s.io, plain)).toEqual([{ question: 28, answered: false, followUps: [] }]);
    expect(s.text()).not.toContain('The model answer');
    expect(s.text()).toMatch(/Stopped\. Nothing practised this time\.\n$/);
  });

  test('when a beginner question is practised then the timer is 60 s', async () => {
    const s = scripted(['', '', '']);
    await interview({ ...plan, lab: undefined, evidence: undefined, cards: [bank().find((c) => c.number === 7)!] }, s.io, plain);
    expect(s.text().split('[timer 60 s]')).toHaveLength(4);
  });

  test('when there is no terminal then the card is printed for reading', async () => {
    await expect(interviewForReading(plan, plain) + '\n').toMatchFileSnapshot(golden('interview-deadlocks-reading.txt'));
  });
});

/** A learner's work folder with the deadlocks copy started and the evidence above recorded. */
function workDir(): string {
  const work = mkdtempSync(join(tmpdir(), 'interview-'));
  expect(spawnSync(process.execPath, [bin, 'start', 'deadlocks'], { env: { ...process.env, LAB_WORK_DIR: work } }).status).toBe(0);
  writeFileSync(join(work, '.progress.json'), JSON.stringify({ '01-deadlocks': { evidence } }));
  return work;
}

describe('lab interview deadlocks, through the CLI', () => {
  test('when the lab does not pass yet then it says so in one line and exits 1', () => {
    const r = spawnSync(process.execPath, [bin, 'interview', 'deadlocks'], {
      env: { ...process.env, LAB_WORK_DIR: workDir() },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'lab: your copy of deadlocks does not pass yet (edited). The interview comes with your evidence once it passes: `lab test deadlocks`, or practise now with `lab interview deadlocks --reveal`.',
    ]);
  });

  test('when stdin is not a terminal then it prints the question, evidence, answer and follow-ups, and records nothing', () => {
    const work = workDir();
    const r = spawnSync(process.execPath, [bin, 'interview', 'deadlocks', '--reveal'], {
      env: { ...process.env, LAB_WORK_DIR: work, CI: 'true' },
      encoding: 'utf8',
      input: '\n\n',
    });
    expect(r.status, r.stderr).toBe(0);
    for (const part of [
      'What causes a deadlock',
      'deadlocks                      45  →  0',
      'Trade-off',
      'Follow-up 3 of 3.',
      'nothing was timed or recorded',
    ])
      expect(r.stdout).toContain(part);
    expect(() => readFileSync(join(work, '.practice.json'))).toThrow(/ENOENT/);
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  test.runIf(hasScript)(
    'when run in a pseudo-terminal then Enter reveals each part in turn, and `lab questions` shows it practised',
    async () => {
      const work = workDir();
      const env = { ...process.env, LAB_WORK_DIR: work, COLUMNS: '100', NO_COLOR: '1' };
      const child = spawn('script', ['-qfec', `"${process.execPath}" "${bin}" interview deadlocks --reveal`, '/dev/null'], { env });
      let out = '';
      let answered = 0;
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        // Each time a new "press Enter" prompt shows, answer it after a moment (the timer ticks meanwhile).
        const prompts = out.split('press Enter').length - 1;
        while (answered < prompts) {
          answered++;
          setTimeout(() => child.stdin.write('\n'), 100);
        }
      });
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(code, out).toBe(0);
      expect(answered).toBe(4);
      expect(out).toContain('⏱ 2:00');
      expect(out).toContain('Done. Question 28: answer + 3 follow-ups practised.');
      expect(JSON.parse(readFileSync(join(work, '.practice.json'), 'utf8'))['28']).toMatchObject({ answered: true, followUps: [0, 1, 2] });
      const list = spawnSync(process.execPath, [bin, 'questions'], { env: { ...env, CI: 'true' }, encoding: 'utf8' });
      expect(list.stdout).toMatch(
        / 28 {2}Deadlocks: why they happen and how to prevent them\n {6}lab 01 deadlocks: .* · practised: answer \+ 3 of 3 follow-ups\n/,
      );
    },
    30_000,
  );
});
