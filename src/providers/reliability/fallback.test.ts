import { describe, expect, it } from 'vitest';
import { PixelError } from '../../protocol/errors.ts';
import { runWithFallback } from './fallback.ts';

const fail = (code: PixelError['code'], reason?: string, retryable?: boolean) => () =>
  Promise.reject(new PixelError({ code, reason, retryable, message: `${code} ${reason ?? ''}` }));

async function failure(promise: Promise<unknown>): Promise<PixelError> {
  try {
    await promise;
  } catch (error) {
    if (PixelError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

function counting(run: () => Promise<string>) {
  const counter = {
    calls: 0,
    run: () => {
      counter.calls++;
      return run();
    },
  };
  return counter;
}

describe('runWithFallback', () => {
  it('moves to the next route on a retryable failure and reports every attempt', async () => {
    const first = counting(fail('unavailable', 'provider_unavailable'));
    const second = counting(() => Promise.resolve('image from B'));
    const moves: string[] = [];
    const result = await runWithFallback(
      [
        { id: 'fal/flux-dev', run: first.run },
        { id: 'replicate/flux-dev', run: second.run },
      ],
      { onFallback: (a, next) => moves.push(`${a.route}->${next}`) },
    );
    expect(result.value).toBe('image from B');
    expect(result.route).toBe('replicate/flux-dev');
    expect(result.attempts.map((a) => [a.route, a.error?.code])).toEqual([
      ['fal/flux-dev', 'unavailable'],
      ['replicate/flux-dev', undefined],
    ]);
    expect(moves).toEqual(['fal/flux-dev->replicate/flux-dev']);
  });

  it('falls back past an open circuit and a rate limit', async () => {
    const result = await runWithFallback([
      { id: 'a', run: fail('unavailable', 'circuit_open', true) },
      { id: 'b', run: fail('resource_exhausted', 'rate_limited') },
      { id: 'c', run: () => Promise.resolve(3) },
    ]);
    expect(result.route).toBe('c');
    expect(result.attempts).toHaveLength(3);
  });

  it('never falls back on bad input, auth or moderation', async () => {
    for (const failure of [
      fail('invalid_argument', 'provider_error'),
      fail('unauthenticated', 'auth'),
      fail('permission_denied', 'content_moderated', false),
    ]) {
      const second = counting(() => Promise.resolve('never'));
      await expect(
        runWithFallback([
          { id: 'a', run: failure },
          { id: 'b', run: second.run },
        ]),
      ).rejects.toBeInstanceOf(PixelError);
      expect(second.calls).toBe(0);
    }
  });

  it('fails with the last code and the whole chain when every route fails', async () => {
    const error = await failure(
      runWithFallback([
        { id: 'a', run: fail('unavailable', 'provider_unavailable') },
        { id: 'b', run: fail('deadline_exceeded', 'timeout') },
      ]),
    );
    expect(error.code).toBe('deadline_exceeded');
    expect(error.message).toContain('a: unavailable');
    expect(error.message).toContain('b: deadline_exceeded');
  });

  it('stops when the caller cancels and refuses an empty route list', async () => {
    const controller = new AbortController();
    const second = counting(() => Promise.resolve('never'));
    const error = await failure(
      runWithFallback(
        [
          {
            id: 'a',
            run: () => {
              controller.abort();
              return Promise.reject(new Error('aborted'));
            },
          },
          { id: 'b', run: second.run },
        ],
        { signal: controller.signal },
      ),
    );
    expect(error.code).toBe('cancelled');
    expect(second.calls).toBe(0);
    const none = await failure(runWithFallback([]));
    expect(none.reason).toBe('no_route');
  });
});
