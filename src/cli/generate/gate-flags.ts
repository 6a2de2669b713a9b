import { invalidArgument } from '../../protocol/errors.ts';

/** `pixel generate` flags of the quality gate. */
export interface GateFlags {
  gate?: boolean;
  judge?: string;
  maxRounds?: string;
  threshold?: string;
  budget?: string;
  unsure?: string;
  promptWriter?: string;
}

function number(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n))
    throw invalidArgument(`gate.${flag}`, `--${flag} must be a number, got "${value}"`);
  return n;
}

/** Adds the request's `gate` field when --gate (or any gate flag) is given. */
export function withGate(request: Record<string, unknown>, flags: GateFlags): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  if (flags.judge !== undefined) options.judge = flags.judge;
  const maxRounds = number('max-rounds', flags.maxRounds);
  if (maxRounds !== undefined) options.maxRounds = maxRounds;
  const threshold = number('threshold', flags.threshold);
  if (threshold !== undefined) options.threshold = threshold;
  const budget = number('budget', flags.budget);
  if (budget !== undefined) options.budgetUsd = budget;
  if (flags.unsure !== undefined) options.unsure = flags.unsure;
  if (flags.promptWriter !== undefined) options.promptWriter = flags.promptWriter;
  if (!flags.gate && Object.keys(options).length === 0) return request;
  if (!flags.gate) throw invalidArgument('gate', 'gate options (--judge, --max-rounds, …) need --gate');
  // An object even when empty: the RPC's GateOptions message needs one, and {} means "on".
  return { ...request, gate: options };
}
