import { describe, expect, it } from 'vitest';
import { linkSignals } from './linked-signal.ts';

describe('linkSignals', () => {
  it('aborts with the reason of whichever source aborts first', () => {
    const a = new AbortController();
    const b = new AbortController();
    const linked = linkSignals([a.signal, undefined, b.signal]);
    expect(linked.signal.aborted).toBe(false);
    b.abort(new Error('b went first'));
    expect(linked.signal.aborted).toBe(true);
    expect((linked.signal.reason as Error).message).toBe('b went first');
    a.abort(new Error('a'));
    expect((linked.signal.reason as Error).message).toBe('b went first');
  });

  it('is aborted at once when a source already is', () => {
    const a = new AbortController();
    a.abort('gone');
    const linked = linkSignals([new AbortController().signal, a.signal]);
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe('gone');
  });

  it('no longer follows its sources once released', () => {
    const a = new AbortController();
    const linked = linkSignals([a.signal]);
    linked.release();
    a.abort('late');
    expect(linked.signal.aborted).toBe(false);
  });

  it('with no sources, never aborts', () => {
    expect(linkSignals([]).signal.aborted).toBe(false);
  });
});
