import type { Command } from 'commander';
import { defaultCatalog, defaultModelId } from '../../models/catalog.ts';
import { invalidArgument } from '../../protocol/errors.ts';
import { translate } from '../../translate/translate.ts';
import { failWith, printJson } from '../output.ts';
import { formatReport } from '../report-format.ts';
import { addRequestFlags, type RequestFlags, requestFromFlags } from '../request-flags.ts';

export function registerTranslate(program: Command): void {
  addRequestFlags(program.command('translate'))
    .description('show the native request(s) and the translation report, without generating')
    .action((prompt: string | undefined, flags: RequestFlags) => {
      try {
        if (flags.app !== undefined) {
          throw invalidArgument(
            'app',
            `translate takes a prompt; for an application use \`pixel apps preview ${flags.app}\``,
          );
        }
        const t = translate(requestFromFlags(prompt, flags), {
          catalog: defaultCatalog(),
          defaultModel: defaultModelId(process.env),
        });
        if (flags.json) {
          printJson({
            model: t.model.id,
            requested: t.requestedModel,
            provider: t.model.provider,
            seed: t.request.seed,
            calls: t.calls,
            delivery: t.delivery,
            report: t.report,
            costEstimateUsd: t.costEstimateUsd,
          });
          return;
        }
        console.log(
          `model     ${t.model.id}${t.requestedModel !== t.model.id ? ` (from ${t.requestedModel})` : ''}`,
        );
        console.log(`calls     ${t.calls.length} (${t.calls.map((c) => c.count).join(' + ')} images)`);
        console.log(
          `delivery  ${t.delivery.fit === 'exact' ? `exactly ${t.delivery.width}x${t.delivery.height}` : 'native size'}, ${t.delivery.format}`,
        );
        console.log(
          `cost      ${t.costEstimateUsd === null ? 'unknown' : `$${t.costEstimateUsd.toFixed(4)}`}`,
        );
        console.log('report');
        console.log(formatReport(t.report));
        console.log('native request (first call)');
        console.log(JSON.stringify(t.calls[0]!.body, null, 2));
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });
}
