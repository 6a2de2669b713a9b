import type { Price } from '../models/schema.ts';

/** Estimated cost in USD for `count` images at a native size and tier; null when the catalogue has no price. */
export function estimateCost(
  price: Price,
  count: number,
  width: number,
  height: number,
  tier?: string,
): number | null {
  switch (price.kind) {
    case 'free':
      return 0;
    case 'per_image':
      return roundUsd(price.usd * count);
    case 'per_megapixel':
      return roundUsd(price.usd * ((width * height) / 1_000_000) * count);
    case 'by_size_quality': {
      const size = `${width}x${height}`;
      const q = tier ?? '*';
      const unit =
        price.table[`${q}:${size}`] ??
        price.table[`${q}:*`] ??
        price.table[`*:${size}`] ??
        price.table['*:*'];
      return unit === undefined ? null : roundUsd(unit * count);
    }
    case 'unknown':
      return null;
  }
}

function roundUsd(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
