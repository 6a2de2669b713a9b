import type { GenerateRequestInput } from '../../protocol/request.ts';
import { translate } from '../../translate/translate.ts';
import type { Translation } from '../../translate/types.ts';
import type { ProviderCall } from '../types.ts';

/** What a contract case sends: the translated provider calls for one unified request. */
export interface PlannedRequest {
  translation: Translation;
  /** One ProviderCall per planned call (n split by the model's per-call maximum). */
  calls: ProviderCall[];
  /** Native pixels each image must have. */
  width: number;
  height: number;
}

/** Unified request → the provider calls Pixel would make, built by the real translation. */
export async function plan(input: GenerateRequestInput, signal?: AbortSignal): Promise<PlannedRequest> {
  const translation = translate(input);
  const calls = translation.calls.map((c) => ({
    model: translation.model,
    body: c.body,
    count: c.count,
    signal,
  }));
  return {
    translation,
    calls,
    width: translation.native.size.width,
    height: translation.native.size.height,
  };
}
