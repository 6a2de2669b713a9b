import { Command } from 'commander';
import { COMMANDS, commandNamed } from './command-table.ts';

const program = new Command()
  .name('pixel')
  .description('Pixel: one parameter protocol for every image model')
  .showHelpAfterError()
  .exitOverride((error) => {
    // commander's own usage errors (unknown flag, missing argument) exit 2 like our validation errors.
    process.exit(error.exitCode === 0 ? 0 : 2);
  });

// Only the command that runs is loaded (with its options and subcommands); the others are listed by name and
// summary, so `pixel --help` shows them all without importing them.
const running = commandNamed(process.argv.slice(2));
for (const entry of COMMANDS) {
  if (entry === running) (await entry.load())(program);
  else program.command(entry.name).description(entry.summary);
}

await program.parseAsync(process.argv);
