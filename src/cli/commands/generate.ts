import type { Command } from 'commander';
import { platformConfigFromEnv } from '../../platform/config.ts';
import { invalidArgument } from '../../protocol/errors.ts';
import type { ServiceProgress } from '../../server/image-service.ts';
import { type GateFlags, withGate } from '../generate/gate-flags.ts';
import { printSummary } from '../generate/print.ts';
import { progressReporter } from '../generate/progress.ts';
import type { GenerateSummary } from '../generate/summary.ts';
import { failWith, progressLine } from '../output.ts';
import { addRequestFlags, type RequestFlags, requestFromFlags } from '../request-flags.ts';

export interface GenerateFlags extends RequestFlags, GateFlags {
  out?: string;
  /** commander's --no-store: false when given. */
  store: boolean;
  server?: string;
}

export function registerGenerate(program: Command): void {
  addRequestFlags(program.command('generate'))
    .description(
      'generate images and store them in the catalogue (PIXEL_DATA_DIR or DATABASE_URL) with img_… ids and lineage',
    )
    .option('-o, --out <dir>', 'also write copies of the images into this folder')
    .option('--no-store', 'do not catalogue: only write loose files (into --out, default the current folder)')
    .option(
      '--server <url>',
      'send the request to a running Pixel server, which stores it (default: the server holding the data folder, if any)',
    )
    .option('--gate', 'run the quality gate (needs --app): judge, refine the prompt, keep the best image')
    .option(
      '--judge <name>',
      'gate judge: pixel/inspect (default), <provider>/<model>, cascade:<model>, ensemble:<a>,<b>',
    )
    .option('--max-rounds <n>', 'gate: most rounds (default: the application policy)')
    .option('--threshold <share>', 'gate: share of questions that must match, 0–1')
    .option('--budget <usd>', 'gate: most to spend on the item, USD')
    .option('--unsure <policy>', 'gate: what an unsure answer counts as: fail, ignore (default) or review')
    .option(
      '--prompt-writer <model>',
      'gate: template (default) or a language model such as anthropic/claude-haiku-4-5',
    )
    .action(async (prompt: string | undefined, flags: GenerateFlags) => {
      const json = Boolean(flags.json);
      const progress = progressLine(!json);
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      try {
        const summary = await runGenerate(withGate(requestFromFlags(prompt, flags), flags), flags, {
          signal: controller.signal,
          onProgress: progressReporter(progress),
          progressText: progress,
          notice: (line) => process.stderr.write(`pixel: ${line}\n`),
        });
        progress('');
        printSummary(summary, json);
      } catch (error) {
        progress('');
        failWith(error, json);
      }
    });
}

/**
 * The three ways a generation runs: loose files (--no-store), on a server (--server, or the one holding the
 * embedded folder), or stored here. Everything opened is closed on every path before this returns. Each way
 * loads only its own modules (--no-store loads neither the database nor the Connect client).
 */
export async function runGenerate(
  request: Record<string, unknown>,
  flags: GenerateFlags,
  io: {
    signal: AbortSignal;
    onProgress: (event: ServiceProgress) => void;
    /** The same terminal line, for a server's progress events. */
    progressText?: (text: string) => void;
    notice: (line: string) => void;
  },
): Promise<GenerateSummary> {
  const apiKey = process.env.PIXEL_API_KEY?.trim() || undefined;
  const remote = {
    signal: io.signal,
    ...(apiKey && { apiKey }),
    ...(io.progressText && { onProgress: io.progressText }),
  };
  if (!flags.store) {
    if (flags.server !== undefined)
      throw invalidArgument('server', '--server stores on the server; drop --no-store');
    const { generateLoose } = await import('../generate/loose.ts');
    return generateLoose(request, {
      out: flags.out ?? '.',
      app: flags.app !== undefined,
      signal: io.signal,
      onProgress: io.onProgress,
    });
  }
  const out = flags.out === undefined ? {} : { out: flags.out };
  const { generateOnServer } = await import('../generate/remote.ts');
  if (flags.server !== undefined) {
    return generateOnServer(serverUrl(flags.server), request, { ...out, ...remote });
  }
  const { openStoreTarget } = await import('../generate/route.ts');
  const target = await openStoreTarget(
    platformConfigFromEnv(process.env),
    ', or generate without storing with --no-store',
  );
  if (target.kind === 'server') {
    io.notice(
      `the catalogue in this data folder is held by \`pixel serve\` (process ${target.pid}) at ${target.url}; sending the request there`,
    );
    return generateOnServer(target.url, request, { ...out, ...remote });
  }
  try {
    for (const error of target.platform.synced.errors) io.notice(`warning: ${error.message}`);
    const { generateStored } = await import('../generate/local.ts');
    return await generateStored(target.platform, request, {
      ...out,
      signal: io.signal,
      onProgress: io.onProgress,
    });
  } finally {
    await target.platform.close();
  }
}

function serverUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
    return url.toString().replace(/\/+$/, '');
  } catch {
    throw invalidArgument('server', `--server must be an http(s) URL, got "${value}"`);
  }
}
