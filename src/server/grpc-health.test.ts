import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createContextValues, type HandlerContext } from '@connectrpc/connect';
import { describe, expect, it } from 'vitest';
import {
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus as Status,
} from '../gen/grpc/health/v1/health_pb.ts';
import { ManualClock } from '../providers/reliability/manual-clock.ts';
import { healthServiceImpl } from './grpc-health.ts';

function context(signal: AbortSignal): HandlerContext {
  return { signal, values: createContextValues() } as unknown as HandlerContext;
}

describe('grpc.health.v1.Health', () => {
  const services = ['pixel.v1.ImageService'];

  it('Check: the server status for "" and each service; NOT_FOUND for another name', async () => {
    let serving = true;
    const impl = healthServiceImpl({ services, serving: async () => serving, clock: new ManualClock() });
    const ctx = context(new AbortController().signal);
    const check = (service: string) => impl.check(create(HealthCheckRequestSchema, { service }), ctx);
    expect(await check('')).toEqual({ status: Status.SERVING });
    expect(await check('pixel.v1.ImageService')).toEqual({ status: Status.SERVING });
    serving = false;
    expect(await check('')).toEqual({ status: Status.NOT_SERVING });
    const error = await Promise.resolve()
      .then(() => check('pixel.v1.Other'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.NotFound);
  });

  it('Watch: the status now, then each change, until the caller hangs up', async () => {
    const clock = new ManualClock();
    const statuses = [true, true, false, false, true];
    let polls = 0;
    const controller = new AbortController();
    const impl = healthServiceImpl({
      services,
      serving: async () => {
        const value = statuses[Math.min(polls, statuses.length - 1)]!;
        polls++;
        if (polls >= statuses.length) controller.abort();
        return value;
      },
      clock,
      watchIntervalMs: 1000,
    });
    const seen: number[] = [];
    for await (const answer of impl.watch(
      create(HealthCheckRequestSchema, { service: '' }),
      context(controller.signal),
    )) {
      seen.push(answer.status as number);
    }
    expect(seen).toEqual([Status.SERVING, Status.NOT_SERVING, Status.SERVING]);
    expect(clock.sleeps.every((ms) => ms === 1000)).toBe(true);
  });

  it('Watch: an unknown service is SERVICE_UNKNOWN, not an error', async () => {
    const controller = new AbortController();
    const impl = healthServiceImpl({ services, serving: async () => true, clock: new ManualClock() });
    const watch = impl.watch(
      create(HealthCheckRequestSchema, { service: 'nope' }),
      context(controller.signal),
    );
    const first = await watch[Symbol.asyncIterator]().next();
    expect(first.value).toEqual({ status: Status.SERVICE_UNKNOWN });
    controller.abort();
  });
});
