import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { type Health, HealthCheckResponse_ServingStatus as Status } from '../gen/grpc/health/v1/health_pb.ts';
import type { Clock } from '../providers/reliability/clock.ts';

export interface HealthDeps {
  /** Fully-qualified names of the services this server serves ('' is the server as a whole). */
  services: readonly string[];
  /** Whether the server serves now: false while draining or when its database or store does not answer. */
  serving: () => Promise<boolean>;
  clock: Clock;
  /** How often Watch looks again for a change (default 5 s). */
  watchIntervalMs?: number;
}

/**
 * The standard gRPC health service (grpc.health.v1.Health): what Kubernetes gRPC probes, grpc_health_probe
 * and load balancers ask. Every service shares the server's status; an unknown name is NOT_FOUND (Check)
 * or SERVICE_UNKNOWN (Watch), as the protocol says.
 */
export function healthServiceImpl(deps: HealthDeps): ServiceImpl<typeof Health> {
  const known = new Set(['', ...deps.services]);
  const statusOf = async (service: string): Promise<Status> => {
    if (!known.has(service)) return Status.SERVICE_UNKNOWN;
    return (await deps.serving()) ? Status.SERVING : Status.NOT_SERVING;
  };
  return {
    async check(req) {
      if (!known.has(req.service)) {
        throw new ConnectError(`service "${req.service}" is not served here`, Code.NotFound);
      }
      return { status: await statusOf(req.service) };
    },

    async list() {
      const status = await statusOf('');
      return { statuses: Object.fromEntries([...known].map((name) => [name, { status }])) };
    },

    async *watch(req, ctx) {
      const interval = deps.watchIntervalMs ?? 5_000;
      let last: Status | undefined;
      // Ends when the client hangs up (or the server shuts down and cancels the call).
      while (!ctx.signal.aborted) {
        const status = await statusOf(req.service);
        if (status !== last) {
          last = status;
          yield { status };
        }
        try {
          await deps.clock.sleep(interval, ctx.signal);
        } catch {
          return;
        }
      }
    },
  };
}
