import { Command } from 'commander';
import { registerApps } from './commands/apps.ts';
import { registerExport } from './commands/export.ts';
import { registerGenerate } from './commands/generate.ts';
import { registerKeys } from './commands/keys.ts';
import { registerModels } from './commands/models.ts';
import { registerServe } from './commands/serve.ts';
import { registerSweep } from './commands/sweep.ts';
import { registerTranslate } from './commands/translate.ts';

const program = new Command()
  .name('pixel')
  .description('Pixel: one parameter protocol for every image model')
  .showHelpAfterError()
  .exitOverride((error) => {
    // commander's own usage errors (unknown flag, missing argument) exit 2 like our validation errors.
    process.exit(error.exitCode === 0 ? 0 : 2);
  });

registerGenerate(program);
registerTranslate(program);
registerModels(program);
registerServe(program);
registerKeys(program);
registerExport(program);
registerSweep(program);
registerApps(program);

await program.parseAsync(process.argv);
