/**
 * Bonus: rotating the provider's secret without dropping a delivery. The provider signs with the
 * new secret from the moment it is issued, but deliveries signed with the old one are still in
 * flight and in its retry queue: during the rotation window both are accepted, after it only the
 * new one.
 */
import { describe, expect, test } from 'vitest';
import { bonus, sleep, useLab, type Service } from '../../../harness/testing/index.js';
import { deliver, is2xx, newCustomer, paymentEvent, show, signed } from './provider.js';

const OLD_SECRET = 'whsec_provider_old_5d21e9';
const NEW_SECRET = 'whsec_provider_new_c4a07b';
const WINDOW_MS = 6_000;
const lab = useLab({ instances: 0 });

describe('secret rotation', () => {
  test(
    'bonus: when the secret is being rotated then both secrets are accepted until the window ends, and only the new one after it',
    bonus(2, { id: 'secret-rotation', timeout: 60_000 }),
    async () => {
      // The window is fixed when the instances start; on a stalled machine a start can eat it, so start again (up to 3 times).
      let expiresAt = 0;
      let service: Service | undefined;
      for (let attempt = 1; attempt <= 3 && !service; attempt++) {
        expiresAt = Date.now() + WINDOW_MS;
        const started = await lab.startService({
          instances: 2,
          settings: {
            providerSecret: NEW_SECRET,
            previousProviderSecret: OLD_SECRET,
            previousProviderSecretExpiresAt: new Date(expiresAt).toISOString(),
            processingMs: 0,
          },
        });
        if (expiresAt - Date.now() > 3_000) service = started;
        else await started.close();
      }
      if (!service)
        throw new Error(
          'the machine was too slow: three times the service took most of the 6 s rotation window to start; nothing was judged',
        );
      const svc = service;
      const send = (i: number, secret: string) =>
        deliver(svc, i, signed(JSON.stringify(paymentEvent(newCustomer('rotation'), 100)), { secret }));
      const during = { old: await send(0, OLD_SECRET), new: await send(1, NEW_SECRET), other: await send(0, 'whsec_never_issued_000') };
      const leftMs = expiresAt - Date.now();
      expect(
        leftMs,
        `the service took too long to start: the rotation window had ${leftMs} ms left, nothing was judged inside it`,
      ).toBeGreaterThan(0);
      expect(
        { old: is2xx(during.old.status), new: is2xx(during.new.status), other: during.other.status },
        `inside the rotation window (previousProviderSecretExpiresAt in ${Math.round(leftMs / 1000)} s) the old secret answered ` +
          `${show(during.old)}, the new one ${show(during.new)}, a secret never issued ${show(during.other)}. During a rotation both ` +
          'the current and the previous secret are valid',
      ).toEqual({ old: true, new: true, other: 401 });
      await sleep(expiresAt + 500 - Date.now());
      const after = { old: await send(1, OLD_SECRET), new: await send(0, NEW_SECRET) };
      expect(
        { old: after.old.status, new: is2xx(after.new.status) },
        `after the rotation window ended the old secret answered ${show(after.old)} and the new one ${show(after.new)}: ` +
          'a retired secret must stop working when its window ends (it may have leaked; that is often why it is rotated)',
      ).toEqual({ old: 401, new: true });
      await svc.close();
    },
  );
});
