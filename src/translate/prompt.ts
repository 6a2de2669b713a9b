/**
 * The prompt a model without native style presets or negative prompts receives, assembled from its
 * parts in a fixed order: the subject (the caller's or the application's text), then the style
 * fragment, then the "Avoid" sentence. Each part is one sentence; stray separators at the joins
 * are removed so the text reads as written by hand.
 */
export interface PromptParts {
  subject: string;
  /** A style fragment ("studio product photograph, clean seamless background, …"). */
  style?: string;
  /** Things to keep out of the image, as the caller wrote them (comma separated). */
  avoid?: string;
}

export function assemblePrompt(parts: PromptParts): string {
  const style = parts.style ? tidy(parts.style) : '';
  const avoid = parts.avoid === undefined ? [] : avoidItems(parts.avoid);
  // Nothing to add: the caller's text goes out exactly as written.
  if (style === '' && avoid.length === 0) return parts.subject;
  const sentences = [sentence(parts.subject)];
  if (style !== '') sentences.push(sentence(capitalise(style)));
  if (avoid.length > 0) sentences.push(`Avoid: ${avoid.join(', ')}.`);
  return sentences.filter((s) => s !== '').join(' ');
}

/** The items of a negative prompt: split on commas, semicolons and new lines, trimmed, deduplicated. */
export function avoidItems(negative: string): string[] {
  const seen = new Set<string>();
  const items: string[] = [];
  for (const raw of negative.split(/[,;\n]+/)) {
    const item = tidy(raw).replace(/^(avoid|no)\s*:\s*/i, '');
    const key = item.toLowerCase();
    if (item === '' || seen.has(key)) continue;
    seen.add(key);
    items.push(item);
  }
  return items;
}

/** Collapses whitespace and strips separators left at either end. */
function tidy(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/^[\s,;:.]+/, '')
    .replace(/[\s,;:]+$/, '')
    .replace(/\.+$/, '')
    .trim();
}

/** One sentence: trimmed, trailing commas or colons removed, ending in a full stop unless it ends in ?, ! or a quote. */
function sentence(text: string): string {
  const t = text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\s,;:]+$/, '');
  if (t === '') return '';
  return /[.!?"'”’]$/.test(t) ? t : `${t}.`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
