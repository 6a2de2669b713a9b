import type { ModelEntry } from '../models/schema.ts';
import { invalidArgument } from '../protocol/errors.ts';
import type { GenerateRequest, ImageFormat } from '../protocol/request.ts';
import type { ReportLine } from './types.ts';

export function planFormat(
  request: GenerateRequest,
  model: ModelEntry,
  report: ReportLine[],
): { native: ImageFormat; deliver: ImageFormat } {
  const wanted = request.format ?? 'png';
  if (model.formats.includes(wanted)) {
    if (request.format)
      report.push({ param: 'format', status: 'native', requested: wanted, sent: wanted, note: wanted });
    return { native: wanted, deliver: wanted };
  }
  // Prefer a lossless source to convert from; otherwise whatever the model makes by default.
  const source: ImageFormat = model.formats.includes('png') ? 'png' : model.defaultFormat;
  report.push({
    param: 'format',
    status: 'emulated',
    requested: wanted,
    sent: source,
    note: `${model.id} cannot output ${wanted}; generated ${source} and converted`,
  });
  return { native: source, deliver: wanted };
}

export function planBackground(
  request: GenerateRequest,
  model: ModelEntry,
  format: { native: ImageFormat; deliver: ImageFormat },
  report: ReportLine[],
): 'transparent' | 'opaque' | undefined {
  const wanted = request.background ?? 'auto';
  if (wanted === 'auto') return undefined;
  if (wanted === 'transparent') {
    if (format.deliver === 'jpeg') {
      throw invalidArgument(
        'background',
        'background "transparent" needs format png or webp (jpeg has no alpha channel)',
      );
    }
    if (model.transparentBackground && format.native !== 'jpeg') {
      report.push({
        param: 'background',
        status: 'native',
        requested: wanted,
        sent: 'transparent',
        note: 'transparent',
      });
      return 'transparent';
    }
    report.push({
      param: 'background',
      status: 'dropped',
      requested: wanted,
      note: `${model.id} cannot make a transparent background; the image will be opaque`,
    });
    return undefined;
  }
  if (model.transparentBackground) {
    report.push({ param: 'background', status: 'native', requested: wanted, sent: 'opaque', note: 'opaque' });
    return 'opaque';
  }
  report.push({
    param: 'background',
    status: 'native',
    requested: wanted,
    note: 'this model always makes opaque images',
  });
  return undefined;
}
