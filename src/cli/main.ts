import { Command } from 'commander';
import { registerGenerate } from './commands/generate.ts';
import { registerModels } from './commands/models.ts';
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

await program.parseAsync(process.argv);
