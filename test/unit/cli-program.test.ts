/**
 * `mlops --help` lists the subcommands from program.ts's table without loading their modules:
 * the table must say what the modules say (name, `[options]`, arguments, description).
 */
import { describe, expect, it } from 'vitest';
import { buildProgram, SUBCOMMANDS } from '../../bin/cli/program';

describe('the subcommand table', () => {
  it('matches every module: term and description as --help would print them', async () => {
    const loaded = await buildProgram([], { load: true });
    const help = loaded.createHelp();
    const actual = Object.fromEntries(
      loaded.commands.map((command) => [
        command.name(),
        [help.subcommandTerm(command), command.description()],
      ]),
    );
    const listed = Object.fromEntries(
      Object.entries(SUBCOMMANDS).map(([name, { term, description }]) => [name, [term, description]]),
    );
    expect(listed).toEqual(actual);
  });

  it('lists them all for --help with the same terms, and loads only the one named', async () => {
    const listing = await buildProgram(['node', 'mlops']);
    expect(listing.commands.map((command) => command.name())).toEqual(Object.keys(SUBCOMMANDS));
    expect(listing.helpInformation()).toContain('land [options] <file>');
    const one = await buildProgram(['node', 'mlops', 'land', '--help']);
    expect(one.commands.map((command) => command.name())).toEqual(['land']);
    expect(one.commands[0]?.options.map((option) => option.long)).toContain('--contract');
    const viaHelp = await buildProgram(['node', 'mlops', 'help', 'run']);
    expect(viaHelp.commands[0]?.options.map((option) => option.long)).toContain('--file');
  });
});
