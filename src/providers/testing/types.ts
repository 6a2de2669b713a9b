import type { ProviderName } from '../../models/schema.ts';
import type { ProviderAdapter } from '../types.ts';

/** Faults a fake can be told to inject on its next requests; each mimics the real API's own bodies and headers. */
export type Fault =
  | { kind: 'rate_limit'; times: number; retryAfterMs: number }
  | { kind: 'server_error'; times: number; status: 500 | 502 | 503 | 529 }
  | { kind: 'moderation'; times: number }
  | {
      kind: 'malformed';
      times: number;
      variant: 'missing_fields' | 'not_image' | 'wrong_content_type' | 'empty_list';
    }
  | { kind: 'invalid'; times: number }
  | { kind: 'slow'; times: number; delayMs: number }
  /** Async providers: the job stays queued/processing until cancelled. */
  | { kind: 'stuck'; times: number }
  /**
   * The provider's 401 or 500 error body repeats the credentials the request carried (as some APIs and
   * proxies do), to prove Pixel removes them before anything reaches a caller, a log or the catalogue.
   */
  | { kind: 'echo_credential'; times: number; status: 401 | 500 };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface FakeServer {
  /** Base URL to hand the adapter (what `…_BASE_URL` would hold). */
  url: string;
  /** The key the fake accepts; any other key gets the provider's 401. */
  apiKey: string;
  inject(fault: Fault): void;
  reset(): void;
  /** Every request the fake received, in order. */
  readonly requests: RecordedRequest[];
  /** Ids of async jobs the client cancelled through the provider's cancel endpoint. */
  readonly cancelled: string[];
  close(): Promise<void>;
}

/** What each provider folder exports (as `contract.ts`) for the shared contract suite. */
export interface ProviderContract {
  provider: ProviderName;
  /** Catalogue ids served by this adapter that the suite exercises. */
  modelIds: string[];
  /** True when jobs are async and have a cancel endpoint. */
  async: boolean;
  /**
   * Signals the real API never gives, so the suite skips those checks: `moderation` (self-hosted
   * servers have no content filter), `retry_hint` (no wait in a 429, e.g. Bedrock), `auth`,
   * `request_id` (no request id in responses), `seed` (the seed used is not reported back).
   */
  lacks?: ReadonlyArray<'moderation' | 'retry_hint' | 'auth' | 'request_id' | 'seed'>;
  startFake(): Promise<FakeServer>;
  createAdapter(fake: FakeServer, options?: { pollIntervalMs?: number }): ProviderAdapter;
}
