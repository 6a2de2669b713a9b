import type { ModelEntry } from '../models/schema.ts';
import { PixelError } from '../protocol/errors.ts';
import type { ReportLine } from './types.ts';

export function enforceStrict(model: ModelEntry, report: ReportLine[]): void {
  const failing = report.filter((line) => line.status === 'dropped' || line.status === 'emulated');
  if (failing.length === 0) return;
  const first = failing[0]!;
  const field =
    first.param === 'size'
      ? first.requested && String(first.requested).includes('x')
        ? 'width'
        : 'aspectRatio'
      : first.param;
  const hint = failing.some((l) => l.param === 'size')
    ? ' (for size, fit: "native" accepts the nearest native size)'
    : '';
  throw new PixelError({
    code: 'failed_precondition',
    reason: 'unsupported_parameter',
    field,
    message: `${model.id} cannot honour ${failing.map((l) => `${l.param} (${l.status}: ${l.note})`).join('; ')}; onUnsupported is "error"${hint}`,
  });
}
