/**
 * What an attendee's `lab` sends to the workshop server, and the limits the server holds it to.
 * Shared by both sides (client.ts builds reports, app.ts checks them), so they cannot drift.
 * Reports are self-reported pacing data: the server checks their shape, never their truth.
 */
import { z } from 'zod';

/** A request body over this is refused with 413 before it is parsed. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Reports in one POST: a queue that built up offline goes in batches of this many. */
export const MAX_BATCH = 25;
export const MAX_NAME = 40;
export const MAX_MESSAGE = 500;
/** A failing test is "stuck" after this long on the same failing test (and always when every hint is used). */
export const STUCK_AFTER_MS = 10 * 60_000;

// Printable text only: no control characters (a name is shown on a projector and in a CSV).
// eslint-disable-next-line no-control-regex
const printable = (what: string, max: number) =>
  z
    .string()
    .trim()
    .min(1, `${what} is empty`)
    .max(max, `${what} is longer than ${max} characters`)
    // eslint-disable-next-line no-control-regex
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), `${what} holds control characters`);

export const JoinBody = z.strictObject({ name: printable('the name', MAX_NAME) });
export const MessageBody = z.strictObject({ text: z.string().max(MAX_MESSAGE, `the message is longer than ${MAX_MESSAGE} characters`) });
export const CurrentLabBody = z.strictObject({ lab: z.string().max(64).nullable() });

const count = z.number().int().min(0).max(10_000);
const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a lab slug such as "deadlocks"');
const reportId = z.string().regex(/^[A-Za-z0-9-]{8,64}$/, 'a report id of 8 to 64 letters, digits or dashes');
const at = z.iso.datetime({ message: 'an ISO 8601 time in UTC, e.g. 2026-12-02T13:00:00.000Z' });

export const TestOutcome = z.strictObject({
  id: z.string().min(1).max(64),
  status: z.enum(['passed', 'failed', 'skipped']),
  points: count,
  tier: z.enum(['core', 'bonus']),
});

/** One `lab test` or `lab watch` run of the attendee's copy. */
export const TestReport = z.strictObject({
  kind: z.literal('test'),
  id: reportId,
  at,
  lab: slug,
  passed: count,
  total: count,
  points: count,
  maxPoints: count,
  hintsUsed: count,
  hintsTotal: count,
  /** The first failing test's sentence, or null when all passed. */
  failing: z.string().max(300).nullable(),
  tests: z.array(TestOutcome).max(200),
});

/** A `lab hint`: only the hint count moves. */
export const HintReport = z.strictObject({
  kind: z.literal('hint'),
  id: reportId,
  at,
  lab: slug,
  hintsUsed: count,
  hintsTotal: count,
});

export const Report = z.discriminatedUnion('kind', [TestReport, HintReport]);
export type Report = z.infer<typeof Report>;
export type TestReport = z.infer<typeof TestReport>;

export const ReportBatch = z.strictObject({
  reports: z.array(Report).min(1, 'no reports').max(MAX_BATCH, `more than ${MAX_BATCH} reports`),
});

/** What the server answers a report or a status request with: what the attendee's `lab` shows. */
export interface RoomState {
  currentLab: string | null;
  message: { id: number; text: string; at: string } | null;
}

/** The first problem zod found, as one line: "reports.0.points: expected a number". */
export function firstProblem(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || 'body'}: ${issue.message}`;
}
