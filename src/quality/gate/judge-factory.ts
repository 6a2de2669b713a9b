import { invalidArgument } from '../../protocol/errors.ts';
import { createInspectJudge, INSPECT_ID } from '../inspect/inspect.ts';
import { createCascade } from '../judges/cascade.ts';
import { createEnsemble } from '../judges/ensemble.ts';
import { createVlmJudge } from '../judges/vlm.ts';
import { connectionFromEnv, type LlmConnection, parseLlmSpec } from '../llm/models.ts';
import type { Judge } from '../types.ts';

export type ConnectionFor = (provider: ReturnType<typeof parseLlmSpec>['provider']) => LlmConnection;

export const envConnections =
  (env: NodeJS.ProcessEnv = process.env): ConnectionFor =>
  (provider) =>
    connectionFromEnv(provider, env);

/**
 * A judge from its name: `pixel/inspect`; a vision model `<provider>/<model>`; `cascade:<model>`
 * (pixel/inspect first, the model for the rest); `ensemble:<model>,<model>` (two families).
 */
export function buildJudge(name: string, connections: ConnectionFor, field = 'gate.judge'): Judge {
  const spec = name.trim();
  if (spec === INSPECT_ID) return createInspectJudge();
  const vlm = (id: string) =>
    createVlmJudge({ model: id, connection: connections(parseLlmSpec(id, field).provider) });
  if (spec.startsWith('cascade:')) {
    const inner = spec.slice('cascade:'.length);
    if (inner.startsWith('ensemble:'))
      return createCascade(createInspectJudge(), buildJudge(inner, connections, field));
    return createCascade(createInspectJudge(), vlm(inner));
  }
  if (spec.startsWith('ensemble:')) {
    const members = spec
      .slice('ensemble:'.length)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (members.length < 2)
      throw invalidArgument(
        field,
        `${field}: an ensemble names two or more judges, got ${JSON.stringify(spec)}`,
      );
    return createEnsemble(members.map(vlm));
  }
  return vlm(spec);
}
