/**
 * Client for the card acquirer ("the provider"). POST {providerUrl}/charges takes the money and
 * answers 201 with the charge. The acquirer has no idempotency support of its own: every request
 * that reaches it is a new charge on the customer's card.
 */

export interface ChargeRequest {
  customerId: string;
  amountCents: number;
  currency: string;
  /** Our payment id, printed on the customer's statement. */
  reference: string;
}

export interface Charge {
  id: string;
  status: string;
}

/** The provider could not be reached or answered with an error: the money was not taken. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly providerStatus?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

export interface Provider {
  charge(req: ChargeRequest): Promise<Charge>;
}

export function createProvider(url: string, timeoutMs: number): Provider {
  const endpoint = new URL('/charges', url).href;
  return {
    async charge(req) {
      let res: Response;
      try {
        res = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(req),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (e) {
        throw new ProviderError(`payment provider unreachable: ${(e as Error).message}`);
      }
      const text = await res.text();
      if (!res.ok) throw new ProviderError(`payment provider answered ${res.status}: ${text.slice(0, 200)}`, res.status);
      return JSON.parse(text) as Charge;
    },
  };
}
