import { describe, expect, it } from 'vitest';
import { endpointsOf, SERVICE_NAMES, withRequired } from '../services.js';
import { CONFIG_KEY, servicesIn } from '../testing/fixtures.js';

const pg = (port: number) => ({ host: '127.0.0.1', port, user: 'lab', password: 'lab', database: 'lab' });

describe('the service registry', () => {
  it('adds what a service requires, in registry order, each once', () => {
    expect(withRequired(['replica'])).toEqual(['postgres', 'replica']);
    expect(withRequired(['redis', 'replica', 'postgres', 'redis'])).toEqual(['postgres', 'redis', 'replica']);
  });

  it('gives a set of services only their own endpoints', () => {
    const all = { postgres: pg(1), redis: { host: '127.0.0.1', port: 2 }, replica: pg(3), replicaPrimary: pg(4) };
    expect(endpointsOf(['postgres'], all)).toEqual({ postgres: pg(1) });
    expect(endpointsOf(['replica'], all)).toEqual({ postgres: pg(1), replica: pg(3), replicaPrimary: pg(4) });
  });

  it('every registered service has a worker-side fixture and a LabConfig key, and endpoints show which are present', () => {
    expect(Object.keys(CONFIG_KEY).sort()).toEqual([...SERVICE_NAMES].sort());
    expect(servicesIn({ postgres: pg(1), replica: pg(3) })).toEqual(['postgres', 'replica']);
  });
});
