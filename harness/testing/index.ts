/**
 * The testing API labs use. Everything a lab test needs comes from here; nothing in a lab touches
 * containers directly.
 *
 *   const lab = useLab({ instances: 2 });
 *   test('when … then …', points(3), async () => {
 *     const res = await lab.service.http(0).post('/transfers', { … });
 *     const { rows } = await lab.db.query('SELECT …');
 *   });
 */
export { useLab, type LabContext, type ServiceOptions, type UseLabOptions } from './context.js';
export { points, bonus, type Tier } from './grading.js';
export { evidence, type Figure } from './evidence.js';
export { HttpClient, HttpTimeoutError, ResponseHeaders, type HttpResponse, type RequestOptions } from './http.js';
export { overlap, sleep, eventually, type Settled } from './concurrency.js';
export { FailTogether, kendallTau, retrySpread, worstOf, type RetrySpread } from './spread.js';
export { PgStats, type DatabaseFigures, type LockReport, type LockWait, type LockWatch, type LockWatchOptions } from './pg-stats.js';
export type { Service, Instance, LabConfig, Workers, WorkerInstance, ExitStatus, KillSignal, KillOptions } from './service.js';
export { Router, type Backend, type RouterOptions, type Transition } from './router.js';
export {
  steadyTraffic,
  type Traffic,
  type TrafficOptions,
  type TrafficOutcome,
  type TrafficReport,
  type TrafficRequest,
  type TrafficTarget,
} from './traffic.js';
export { FaultPoint } from '../faults.js';
export { listenForService } from './listen.js';
export { conceptLabel, explainFound, summarizeOutcomes, scanForConcepts, type Outcome } from '../teach.js';
