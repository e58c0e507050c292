/**
 * Evidence: named figures a test records from what it observed ("deadlocks: 23", "charges for one
 * key: 4"), so that a learner can say in an interview what their fix changed, in numbers. A figure
 * travels to the runner the way a test's id and points do: in the test's meta (Vitest sends a
 * task's meta from the worker with its result, and the runner reads it with `testCase.meta()`).
 *
 * Recording never changes a test's outcome: a value that is not a finite number (the service never
 * answered, so there was nothing to count) is not recorded, and nothing here throws for anything
 * the tree under test did. Only a test that calls evidence() outside any test, or with a bad name,
 * is told so: that is the test's own mistake, the same on every tree.
 */
import { getCurrentTest } from 'vitest/suite';

export interface Figure {
  /** What was counted, in the lab's terms: "deadlocks", "charges for one key". */
  name: string;
  value: number;
  /** Out of how many: "37 of 60 transfers succeeded". */
  of?: number;
  /** The unit, when the name does not say it: "ms", "cents". */
  unit?: string;
}

declare module 'vitest' {
  interface TaskMeta {
    /** Figures this test recorded (evidence()), in the order recorded; a name recorded again keeps its last value. */
    evidence?: Figure[];
  }
}

/**
 * Records a figure from the current test: `evidence('deadlocks', storm.deadlocks)`,
 * `evidence('transfers succeeded', ok, { of: 60 })`. Record before the assertion that may fail, so
 * that a failing run keeps its figures too. Shown to the learner (before and after their fix); never
 * part of points or grades.
 */
export function evidence(name: string, value: number, opts: { of?: number; unit?: string } = {}): void {
  const test = getCurrentTest();
  if (!test) throw new Error(`evidence('${name}', …) was called outside a test: record figures inside the test that observed them`);
  if (!/^\S.{0,58}\S$/.test(name)) throw new Error(`evidence: "${name}" is not a name of 2 to 60 characters`);
  if (typeof value !== 'number' || !Number.isFinite(value)) return;
  const figure: Figure = { name, value };
  if (typeof opts.of === 'number' && Number.isFinite(opts.of)) figure.of = opts.of;
  if (opts.unit) figure.unit = opts.unit;
  const list = (test.meta.evidence ??= []);
  const i = list.findIndex((f) => f.name === name);
  if (i >= 0) list[i] = figure;
  else list.push(figure);
}
