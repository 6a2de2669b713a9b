/** USD per million tokens, in and out. */
export interface TokenPrice {
  inputPerMTok: number;
  outputPerMTok: number;
}

/** Spend of one call; zero when the price is not known (the report says so where it matters). */
export function costOf(
  price: TokenPrice | undefined,
  usage: { inputTokens?: number | undefined; outputTokens?: number | undefined } | undefined,
): number {
  if (!price || !usage) return 0;
  return (
    ((usage.inputTokens ?? 0) * price.inputPerMTok + (usage.outputTokens ?? 0) * price.outputPerMTok) /
    1_000_000
  );
}
