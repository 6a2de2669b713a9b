import type { ConnectRouter, Interceptor } from '@connectrpc/connect';
import { Health } from '../gen/grpc/health/v1/health_pb.ts';
import { ServerReflection as ReflectionV1 } from '../gen/grpc/reflection/v1/reflection_pb.ts';
import { ServerReflection as ReflectionV1Alpha } from '../gen/grpc/reflection/v1alpha/reflection_pb.ts';
import { type Clock, systemClock } from '../providers/reliability/clock.ts';
import { healthServiceImpl } from './grpc-health.ts';
import { DescriptorIndex, reflectionServiceImpl } from './grpc-reflection.ts';

export interface GrpcToolingOptions {
  /** Interceptors for these services: without the auth interceptor, as probes and schema discovery carry no key. */
  interceptors: Interceptor[];
  /** Whether the server serves now (not draining, database and store answering). */
  serving: () => Promise<boolean>;
  clock?: Clock;
}

/**
 * Adds gRPC server reflection (v1 and v1alpha) and grpc.health.v1.Health to a router, after every other
 * service is registered: reflection describes all of them (itself and health included). Both answer
 * without an API key: the schema is public (proto/) and a probe has no key to send.
 */
export function registerGrpcTooling(router: ConnectRouter, options: GrpcToolingOptions): void {
  const own = [ReflectionV1, ReflectionV1Alpha, Health];
  const registered = [...new Set(router.handlers.map((h) => h.service))];
  const index = new DescriptorIndex([...registered, ...own]);
  const reflection = reflectionServiceImpl(index);
  const handlerOptions = { interceptors: options.interceptors };
  router.service(ReflectionV1, reflection, handlerOptions);
  router.service(ReflectionV1Alpha, reflection, handlerOptions);
  router.service(
    Health,
    healthServiceImpl({
      services: index.services,
      serving: options.serving,
      clock: options.clock ?? systemClock,
    }),
    handlerOptions,
  );
}
