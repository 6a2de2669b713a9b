import Mustache from 'mustache';
import { invalidArgument, PixelError } from '../protocol/errors.ts';
import { VAR_NAME_RE } from './schema.ts';

/**
 * Prompt templates are Mustache, logic-less, so Go, Python and Ruby callers can render the same
 * text. Supported tags: `{{var}}` (also `{{{var}}}` / `{{&var}}`, identical here), sections
 * `{{#var}}…{{/var}}` (rendered when the variable is given and non-empty: an optional clause) and
 * inverted sections `{{^var}}…{{/var}}`, and comments. Partials are refused (there is no partial
 * registry shared across languages); names must be plain identifiers.
 *
 * Escaping: prompts are not HTML, so nothing is escaped (`{{var}}` keeps `&` as `&`). Instead,
 * variable values are refused when they hold control characters, which have no place in a prompt
 * and could smuggle line structure into tag-list prompts.
 */

export type Vars = Record<string, string>;

type Token = [string, string, number, number, Token[]?];

/** Every variable name a template refers to, sections included. Throws on a broken template. */
export function templateVariables(template: string, field = 'template'): Set<string> {
  const names = new Set<string>();
  const walk = (tokens: Token[]) => {
    for (const token of tokens) {
      const [type, value] = token;
      if (type === 'name' || type === '&' || type === '#' || type === '^') names.add(value);
      if ((type === '#' || type === '^') && token[4]) walk(token[4]);
    }
  };
  walk(parseTemplate(template, field));
  return names;
}

function parseTemplate(template: string, field: string): Token[] {
  let tokens: Token[];
  try {
    tokens = Mustache.parse(template) as Token[];
  } catch (error) {
    throw invalidArgument(field, `template does not parse: ${(error as Error).message}`);
  }
  const check = (list: Token[]) => {
    for (const token of list) {
      const [type, value] = token;
      if (type === '>')
        throw invalidArgument(field, `template uses partial "{{>${value}}}"; partials are not supported`);
      if ((type === 'name' || type === '&' || type === '#' || type === '^') && !VAR_NAME_RE.test(value)) {
        throw invalidArgument(
          field,
          `template variable "${value}" must be a plain identifier (letters, digits, _)`,
        );
      }
      if (token[4]) check(token[4]);
    }
  };
  check(tokens);
  return tokens;
}

/** Names the template needs with these vars: variables inside a section that will not render are not needed. */
export function missingVariables(template: string, vars: Vars, field = 'template'): string[] {
  const missing = new Set<string>();
  const given = (name: string) => typeof vars[name] === 'string';
  const walk = (tokens: Token[]) => {
    for (const token of tokens) {
      const [type, value] = token;
      if ((type === 'name' || type === '&') && !given(value)) missing.add(value);
      if (type === '#' && truthy(vars[value]) && token[4]) walk(token[4]);
      if (type === '^' && !truthy(vars[value]) && token[4]) walk(token[4]);
    }
  };
  walk(parseTemplate(template, field));
  return [...missing];
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}

// Any C0/C1 control character, tab and newline included: a variable is one line of text.
const CONTROL_RE = /\p{Cc}/u;
export const VAR_VALUE_MAX = 2000;

/** Checks variable names and values: identifiers, at most 2000 characters, no control characters. */
export function validateVars(vars: unknown): Vars {
  if (vars === undefined || vars === null) return {};
  if (typeof vars !== 'object' || Array.isArray(vars))
    throw invalidArgument('vars', 'vars must be an object of name → text');
  const out: Vars = {};
  for (const [name, value] of Object.entries(vars as Record<string, unknown>)) {
    if (!VAR_NAME_RE.test(name))
      throw invalidArgument(
        `vars.${name}`,
        `variable name "${name}" must be an identifier (letters, digits, _)`,
      );
    if (typeof value !== 'string') throw invalidArgument(`vars.${name}`, `variable "${name}" must be text`);
    if (CONTROL_RE.test(value)) {
      throw invalidArgument(
        `vars.${name}`,
        `variable "${name}" contains a control character (newline, tab…); values are one line of text`,
      );
    }
    if (value.length > VAR_VALUE_MAX)
      throw invalidArgument(`vars.${name}`, `variable "${name}" is longer than ${VAR_VALUE_MAX} characters`);
    out[name] = value;
  }
  return out;
}

export interface RenderPart {
  /** Where the text comes from, for errors: `template`, `variants.tags.template`, `rubric[2].question`. */
  field: string;
  template: string;
}

export interface RenderResult {
  texts: string[];
  /** Given variables no part refers to: reported, not an error. */
  unused: string[];
}

/**
 * Renders several templates against the same vars. Every missing variable across all parts is
 * listed in one error (field `vars`), so a caller fixes them all at once. `extraUsed` names
 * variables consumed elsewhere (e.g. the fine-tune category), so they are not reported unused.
 */
export function renderAll(parts: RenderPart[], vars: Vars, extraUsed: Iterable<string> = []): RenderResult {
  const missing = new Set<string>();
  const referenced = new Set<string>(extraUsed);
  for (const part of parts) {
    for (const name of templateVariables(part.template, part.field)) referenced.add(name);
    for (const name of missingVariables(part.template, vars, part.field)) missing.add(name);
  }
  if (missing.size > 0) {
    const names = [...missing].sort();
    throw new PixelError({
      code: 'invalid_argument',
      reason: 'missing_variables',
      field: 'vars',
      message: `missing template variable${names.length > 1 ? 's' : ''}: ${names.join(', ')}`,
    });
  }
  const texts = parts.map((part) =>
    tidy(Mustache.render(part.template, vars, undefined, { escape: String })),
  );
  const unused = Object.keys(vars)
    .filter((name) => !referenced.has(name))
    .sort();
  return { texts, unused };
}

/** Renders one template (see renderAll). */
export function renderTemplate(
  template: string,
  vars: Vars,
  field = 'template',
): { text: string; unused: string[] } {
  const { texts, unused } = renderAll([{ field, template }], vars);
  return { text: texts[0]!, unused };
}

/** Optional sections leave doubled spaces or commas behind; a prompt reads better without them. */
function tidy(text: string): string {
  return text
    .replace(/[ \t]+/g, ' ')
    .replace(/ +([,.;])/g, '$1')
    .replace(/,(\s*,)+/g, ',')
    .replace(/ *\n */g, '\n')
    .trim()
    .replace(/^,\s*|,\s*$/g, '');
}
