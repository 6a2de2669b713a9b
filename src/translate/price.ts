import type { Price } from '../models/schema.ts';

/** Estimated cost in USD for `count` images at a native size and tier; null when no estimate can be made. */
export function estimateCost(
  price: Price,
  count: number,
  width: number,
  height: number,
  tier?: string,
): number | null {
  const unit = unitCost(price, width, height, tier);
  return unit === null ? null : roundUsd(unit * count);
}

function unitCost(price: Price, width: number, height: number, tier?: string): number | null {
  switch (price.kind) {
    case 'free':
      return 0;
    case 'per_image':
      return price.usd;
    case 'per_megapixel': {
      const mp = (width * height) / 1_000_000;
      // Rounded up per image, with a little slack for float noise (1000x1000 is exactly 1 MP).
      return price.usd * (price.roundUp ? Math.ceil(mp - 1e-9) : mp);
    }
    case 'by_size_quality': {
      const size = `${width}x${height}`;
      const q = tier ?? '*';
      return (
        price.table[`${q}:${size}`] ??
        price.table[`${q}:*`] ??
        price.table[`*:${size}`] ??
        price.table['*:*'] ??
        null
      );
    }
    case 'by_area_quality': {
      const row = price.tiers.find((t) => width * height <= t.upToPixels);
      if (!row) return null;
      return row.usd[tier ?? '*'] ?? row.usd['*'] ?? null;
    }
    case 'credits':
      return price.credits * price.usdPerCredit;
    case 'per_second':
      return price.usd * price.typicalSeconds;
    case 'unknown':
      return null;
  }
}

/** One line for `pixel models` and the catalogue listings: what a model costs and how it is billed. */
export function describePrice(price: Price): string {
  switch (price.kind) {
    case 'free':
      return 'free';
    case 'per_image':
      return `$${price.usd}/image`;
    case 'per_megapixel':
      return `$${price.usd}/MP${price.roundUp ? ' (whole MP per image)' : ''}`;
    case 'by_size_quality':
    case 'by_area_quality': {
      const values =
        price.kind === 'by_size_quality'
          ? Object.values(price.table)
          : price.tiers.flatMap((t) => Object.values(t.usd));
      return `$${Math.min(...values)}–${Math.max(...values)}/image`;
    }
    case 'credits':
      return `${price.credits} credits/image ($${roundUsd(price.credits * price.usdPerCredit)})`;
    case 'per_second':
      return `$${price.usd}/s on ${price.hardware} (~${price.typicalSeconds} s/image)`;
    case 'unknown':
      return 'unknown';
  }
}

function roundUsd(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
