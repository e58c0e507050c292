/** A Vitest setup file, only with LAB_TRACE: marks the moment a test worker has booted (see trace.ts). */
import { trace } from './trace.js';

trace('worker-booted');
