/** One generated token with its alternatives, as OpenAI chat completions return them. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  top_logprobs: Array<{ token: string; logprob: number }>;
}

const VALUE_START = /"answer"\s*:\s*"$/;
const KEY_END = /"answer"\s*:\s*$/;

function classify(token: string): 'yes' | 'no' | undefined {
  const t = token.replace(/^"/, '').trim().toLowerCase();
  if (t.startsWith('yes')) return 'yes';
  if (t.startsWith('no')) return 'no';
  return undefined;
}

/**
 * P(yes) of each `"answer": "<yes|no>"` value in a structured answer, in order of appearance:
 * at the value's first token, P(yes) = Σ p(yes-tokens) / (Σ p(yes-tokens) + Σ p(no-tokens)) over
 * the top alternatives. Null for a value whose alternatives hold neither.
 */
export function answerProbabilities(tokens: readonly TokenLogprob[]): Array<number | null> {
  const out: Array<number | null> = [];
  let text = '';
  for (const t of tokens) {
    const atValue = VALUE_START.test(text) || (KEY_END.test(text) && t.token.startsWith('"'));
    if (atValue && classify(t.token) !== undefined) {
      let yes = 0;
      let no = 0;
      const alternatives =
        t.top_logprobs.length > 0 ? t.top_logprobs : [{ token: t.token, logprob: t.logprob }];
      for (const alt of alternatives) {
        const kind = classify(alt.token);
        if (kind === 'yes') yes += Math.exp(alt.logprob);
        else if (kind === 'no') no += Math.exp(alt.logprob);
      }
      out.push(yes + no > 0 ? yes / (yes + no) : null);
    }
    text += t.token;
  }
  return out;
}
