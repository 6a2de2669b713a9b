import type { JsonObject } from '@bufbuild/protobuf';
import type { Model } from '../../../src/gen/pixel/v1/models_pb.ts';
import { asObject } from '../format.ts';

function sizesText(sizes: JsonObject): string {
  switch (sizes.kind) {
    case 'free':
      return `any size ${sizes.minSide ?? '?'}–${sizes.maxSide ?? '?'} px a side${
        Number(sizes.multipleOf) > 1 ? `, multiples of ${sizes.multipleOf}` : ''
      }`;
    case 'list': {
      const list = Array.isArray(sizes.sizes) ? sizes.sizes : [];
      return list.map((s) => `${asObject(s).width}×${asObject(s).height}`).join(', ');
    }
    case 'ratios': {
      const ratios = Array.isArray(sizes.ratios) ? sizes.ratios : [];
      return `aspect ratios ${ratios.map((r) => String(asObject(r).ratio)).join(', ')}`;
    }
    default:
      return String(sizes.kind ?? 'unknown');
  }
}

function rangeText(value: JsonObject | null): string {
  if (!value) return 'not supported';
  if (value.kind === 'tiers') return `quality tiers (${Object.keys(asObject(value.tiers)).join(', ')})`;
  return `${value.min ?? '?'}–${value.max ?? '?'}${value.default !== undefined ? ` (default ${value.default})` : ''}`;
}

/** What the chosen model can do, from its catalogue entry. */
export function Capabilities({ model }: { model: Model }) {
  const c = model.capabilities ?? {};
  const styles = asObject(asObject(c.styles).map);
  const price = asObject(c.price);
  const styleNames = Object.keys(styles);
  const rows: [string, string][] = [
    ['Sizes', sizesText(asObject(c.sizes))],
    ['Guidance (cfg)', rangeText(c.cfg === null ? null : asObject(c.cfg))],
    ['Steps', rangeText(c.steps === null ? null : asObject(c.steps))],
    ['Seed', c.seed ? 'reproducible' : 'not supported'],
    ['Negative prompt', c.negativePrompt ? 'supported' : 'not supported'],
    ['Styles', styleNames.length > 0 ? `${styleNames.length} native` : 'none native (added to the prompt)'],
    ['Per call', `up to ${c.imagesPerCall ?? 1} image${Number(c.imagesPerCall ?? 1) === 1 ? '' : 's'}`],
    ['Formats', Array.isArray(c.formats) ? c.formats.join(', ') : '—'],
    ['Price', price.kind === 'free' ? 'free' : String(price.kind ?? '—').replaceAll('_', ' ')],
  ];
  return (
    <section className="capabilities" aria-label={`Capabilities of ${model.id}`}>
      <h3>
        {model.displayName || model.id}{' '}
        {!model.configured && <span className="badge badge-dropped">not configured on this server</span>}
      </h3>
      <dl className="facts compact">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd title={k === 'Styles' ? styleNames.join(', ') : undefined}>{v}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
