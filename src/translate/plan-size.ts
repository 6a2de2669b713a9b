import type { ModelEntry } from '../models/schema.ts';
import type { GenerateRequest } from '../protocol/request.ts';
import { parseRatio, type SizeTarget, solveSize } from './size.ts';
import type { DeliveryPlan, NativeSize, ReportLine } from './types.ts';

export function planSize(
  request: GenerateRequest,
  model: ModelEntry,
  report: ReportLine[],
): { size: NativeSize; delivery: Omit<DeliveryPlan, 'nativeFormat' | 'format' | 'background' | 'flatten'> } {
  const { width, height } = request;
  const ratio = request.aspectRatio ? parseRatio(request.aspectRatio) : undefined;
  const target: SizeTarget = { width, height, ratio };
  const size = solveSize(model.sizes, target);
  const fit = request.fit ?? (width !== undefined && height !== undefined ? 'exact' : 'native');
  const nativeText = describeSize(size);

  if (width === undefined && height === undefined && ratio === undefined) {
    report.push({
      param: 'size',
      status: 'native',
      sent: nativeText,
      note: `model default ${size.width}x${size.height}`,
    });
    return { size, delivery: { fit: 'native' } };
  }
  // The exact pixels the caller wants: both sides, or one side and the ratio (or square).
  let wantW = width;
  let wantH = height;
  if (wantW === undefined || wantH === undefined) {
    const r = ratio ?? 1;
    if (wantW !== undefined) wantH = Math.max(1, Math.round(wantW / r));
    else if (wantH !== undefined) wantW = Math.max(1, Math.round(wantH * r));
  }
  const asked = wantW !== undefined ? `${wantW}x${wantH}` : request.aspectRatio!;

  if (wantW === undefined || wantH === undefined) {
    // Only a ratio: the nearest native ratio is the answer; nothing to crop.
    const nativeRatio = size.width / size.height;
    const same = Math.abs(Math.log(nativeRatio) - Math.log(ratio!)) < 0.01;
    report.push({
      param: 'aspectRatio',
      status: same ? 'native' : 'adjusted',
      requested: request.aspectRatio,
      sent: nativeText,
      note: same
        ? `${size.width}x${size.height}`
        : `nearest native ratio: ${nativeText} (${size.width}x${size.height})`,
    });
    return { size, delivery: { fit: 'native' } };
  }

  const exactNative = size.width === wantW && size.height === wantH;
  if (exactNative) {
    report.push({
      param: 'size',
      status: 'native',
      requested: asked,
      sent: nativeText,
      note: `${wantW}x${wantH} natively`,
    });
    return { size, delivery: fit === 'exact' ? { fit, width: wantW, height: wantH } : { fit } };
  }
  if (fit === 'exact') {
    report.push({
      param: 'size',
      status: 'emulated',
      requested: asked,
      sent: nativeText,
      note: `generated at ${size.width}x${size.height} (nearest native), then center-cropped and resized to exactly ${wantW}x${wantH}`,
    });
    return { size, delivery: { fit, width: wantW, height: wantH } };
  }
  report.push({
    param: 'size',
    status: 'adjusted',
    requested: asked,
    sent: nativeText,
    note: `nearest native size ${size.width}x${size.height} (fit: native)`,
  });
  return { size, delivery: { fit } };
}

export function describeSize(size: NativeSize): string {
  if (size.kind === 'ratio') return size.resolution ? `${size.ratio} @ ${size.resolution}` : size.ratio;
  if (size.kind === 'preset') return size.preset;
  return `${size.width}x${size.height}`;
}
