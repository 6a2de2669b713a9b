import type { Command } from 'commander';
import { platformConfigFromEnv } from '../../platform/config.ts';
import { invalidArgument } from '../../protocol/errors.ts';
import { type ImageJson, type ImagesBackend, openImagesBackend } from '../images/backend.ts';
import { DEFAULT_LIMIT, type ListFlags, listOptionsFromFlags } from '../images/filters.ts';
import { failWith, printJson } from '../output.ts';
import { formatReport } from '../report-format.ts';

interface CommonFlags {
  json?: boolean;
  server?: string;
}

/** `pixel images list | get | delete`: the ImageService use cases on the catalogue (or the server holding it). */
export function registerImages(program: Command): void {
  const images = program
    .command('images')
    .description('stored images: list (with filters), get, delete')
    .option(
      '--server <url>',
      'ask a running Pixel server (default: the server holding the data folder, if any)',
    );

  images
    .command('list')
    .description('images, newest first; every team (this is the catalogue owner), --team narrows')
    .option('--app <name>', 'only this application')
    .option('--model <id>', 'requested model or route taken')
    .option('--team <team>', 'only this team')
    .option('--status <status>', 'stored, rejected or deleted (default: all but deleted)')
    .option('--after <iso>', 'created at or after (ISO 8601)')
    .option('--before <iso>', 'created before (ISO 8601)')
    .option('--prompt <text>', 'prompt contains (case-insensitive)')
    .option('--accepted <bool>', 'true: only accepted images; false: only images nobody accepted')
    .option('--parent <id>', 'only images made from this one')
    .option('--limit <n>', 'page size', String(DEFAULT_LIMIT))
    .option('--page-token <token>', 'the next page (printed after a full page)')
    .option('--json', 'machine-readable output (the ListImages response)')
    .action((flags: ListFlags, command: Command) =>
      run(command, flags, async (open) => {
        const options = listOptionsFromFlags(flags); // bad flags are refused before the catalogue opens
        const backend = await open();
        const page = await backend.list(options);
        if (flags.json) return printJson(page);
        for (const image of page.images) console.log(listLine(image));
        if (page.images.length === 0) console.log(`no images in ${backend.where} match`);
        if (page.nextPageToken !== undefined) console.log(`next page: --page-token ${page.nextPageToken}`);
      }),
    );

  images
    .command('get <id>')
    .description('one image with its lineage (prompt, parameters, native request, report, URL)')
    .option('--json', 'machine-readable output (the GetImage response)')
    .action((id: string, flags: CommonFlags, command: Command) =>
      run(command, flags, async (open) => {
        checkedId(id);
        const image = await (await open()).get(id);
        if (flags.json) return printJson(image);
        printImage(image);
      }),
    );

  images
    .command('delete <id>')
    .description('delete an image (its row is kept as deleted; the blob is swept later)')
    .option('--json', 'machine-readable output')
    .action((id: string, flags: CommonFlags, command: Command) =>
      run(command, flags, async (open) => {
        checkedId(id);
        const deleted = await (await open()).delete(id);
        if (flags.json) return printJson({ id, deleted });
        console.log(`deleted ${id}`);
      }),
    );
}

async function run(
  command: Command,
  flags: CommonFlags,
  fn: (open: () => Promise<ImagesBackend>) => Promise<void>,
): Promise<void> {
  const json = Boolean(flags.json);
  let backend: ImagesBackend | undefined;
  const open = async () => {
    const parent = command.parent?.opts<{ server?: string }>() ?? {};
    const server = flags.server ?? parent.server;
    backend = await openImagesBackend(platformConfigFromEnv(process.env), {
      ...(server !== undefined && { server }),
      ...(process.env.PIXEL_API_KEY?.trim() && { apiKey: process.env.PIXEL_API_KEY.trim() }),
      notice: (line) => process.stderr.write(`pixel: ${line}\n`),
    });
    return backend;
  };
  try {
    await fn(open);
  } catch (error) {
    await backend?.close().catch(() => {});
    failWith(error, json);
  }
  await backend?.close();
}

function checkedId(id: string): string {
  if (!/^img_[0-9A-Za-z]{1,64}$/.test(id))
    throw invalidArgument('id', `an image id looks like img_…, got "${id}"`);
  return id;
}

const text = (value: unknown) =>
  typeof value === 'string' ? value : value === undefined ? '' : String(value);

function listLine(image: ImageJson): string {
  const prompt = text(image.prompt).replace(/\s+/g, ' ');
  return [
    text(image.id),
    text(image.createdAt),
    text(image.team),
    image.route === image.model ? text(image.route) : `${text(image.model)}→${text(image.route)}`,
    `${text(image.width)}x${text(image.height)}`,
    text(image.status),
    prompt.length > 60 ? `${prompt.slice(0, 59)}…` : prompt,
  ].join('  ');
}

function printImage(image: ImageJson): void {
  const rows: Array<[string, unknown]> = [
    ['id', image.id],
    ['status', image.status],
    ['created', image.createdAt],
    ['team', image.team],
    [
      'application',
      image.application === undefined ? undefined : `${text(image.application)} v${text(image.appVersion)}`,
    ],
    ['model', image.model],
    ['route', image.route],
    [
      'size',
      `${text(image.width)}x${text(image.height)} ${text(image.mediaType)} (${text(image.byteSize)} bytes)`,
    ],
    ['seed', image.seed],
    ['prompt', image.prompt],
    ['negative', image.negativePrompt],
    ['parent', image.parentId],
    ['accepted', image.acceptedAt],
    ['url', image.url],
    ['sha256', image.sha256],
  ];
  for (const [name, value] of rows) if (value !== undefined) console.log(`${name.padEnd(12)} ${text(value)}`);
  const report = Array.isArray(image.report) ? image.report : [];
  if (report.length > 0) {
    console.log('report');
    console.log(formatReport(report as unknown as Parameters<typeof formatReport>[0]));
  }
}
