/**
 * `npm run smoke:providers`: the happy path against every real provider whose key (or URL) is in
 * the environment; one `skip` line for each of the others. Exits non-zero when a configured
 * provider fails. Costs real money: one small draft-quality image per configured provider.
 * Model per provider: the first active catalogue entry, or `PIXEL_SMOKE_<PROVIDER>_MODEL`.
 */
import { defaultCatalog } from '../src/models/catalog.ts';
import { toPixelError } from '../src/protocol/errors.ts';
import { checkImage } from '../src/providers/common/http.ts';
import { createAdapters, missingVariable, PROVIDER_MODULES } from '../src/providers/registry.ts';
import { translate } from '../src/translate/translate.ts';

const PROMPT = 'a red apple on a white plate, studio light';
const env = process.env;
const adapters = createAdapters(env);
const catalog = defaultCatalog();
let failed = 0;

for (const module of PROVIDER_MODULES) {
  const adapter = adapters.get(module.name);
  if (!adapter) {
    console.log(`skip ${module.name}: ${missingVariable(module, env) ?? 'configuration'} not set`);
    continue;
  }
  const override = env[`PIXEL_SMOKE_${module.name.toUpperCase()}_MODEL`];
  const modelId =
    override ?? catalog.list().find((m) => m.provider === module.name && m.status.state === 'active')?.id;
  if (!modelId) {
    console.log(`skip ${module.name}: no active model in the catalogue`);
    continue;
  }
  const started = performance.now();
  try {
    const translation = translate({ model: modelId, prompt: PROMPT, quality: 'draft' });
    const first = translation.calls[0]!;
    const result = await adapter.generate({
      model: translation.model,
      body: first.body,
      count: first.count,
      signal: AbortSignal.timeout(adapter.policy.deadlineMs),
    });
    if (result.images.length < first.count)
      throw new Error(`got ${result.images.length} of ${first.count} images`);
    const image = await checkImage(module.name, result.images[0]!.bytes);
    const ms = Math.round(performance.now() - started);
    const seed = result.images[0]!.seed === undefined ? '' : ` seed ${result.images[0]!.seed}`;
    console.log(
      `ok   ${module.name} ${modelId}: ${image.width}x${image.height} ${image.mediaType}${seed} in ${ms} ms (request ${result.requestId ?? 'n/a'})`,
    );
  } catch (thrown) {
    failed++;
    const error = toPixelError(thrown);
    console.log(
      `FAIL ${module.name} ${modelId}: ${error.code}${error.reason ? `/${error.reason}` : ''}: ${error.message}`,
    );
  }
}

if (failed > 0) {
  console.log(`${failed} configured provider(s) failed`);
  process.exitCode = 1;
}
