/**
 * `berth commit`: POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes=…;
 * prints the new image ID, as docker does.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { ContainerApi } from './containerApi.js';

export const spec: CommandSpec = {
  usage: 'CONTAINER [REPOSITORY[:TAG]]',
  short: "Create a new image from a container's changes",
  aliases: ['container commit', 'commit'],
  args: { kind: 'range', min: 1, max: 2 },
  flags: [
    { name: 'author', short: 'a', type: 'string', usage: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { name: 'change', short: 'c', type: 'list', usage: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', usage: 'Commit message' },
    { name: 'pause', short: 'p', type: 'bool', usage: 'Pause container during commit', default: true },
  ],
};

/** Splits REPOSITORY[:TAG] the way docker does: a ':' after the last '/' starts the tag. */
function splitRepoTag(s: string): [string, string] {
  const slash = s.lastIndexOf('/');
  const colon = s.lastIndexOf(':');
  return colon > slash ? [s.slice(0, colon), s.slice(colon + 1)] : [s, ''];
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const container = p.args[0] as string;
  const query: Array<[string, string]> = [['container', container]];
  if (p.args[1]) {
    const [repo, tag] = splitRepoTag(p.args[1]);
    query.push(['repo', repo]);
    if (tag) query.push(['tag', tag]);
  }
  if (p.string('message') !== '') query.push(['comment', p.string('message')]);
  if (p.string('author') !== '') query.push(['author', p.string('author')]);
  query.push(['pause', p.bool('pause') ? '1' : '0']);
  for (const c of p.list('change')) query.push(['changes', c]);
  const res = await new ContainerApi(ctx.client).json<{ Id: string }>('POST', '/commit', { query, json: {} });
  ctx.out(`${res.Id}\n`);
  return 0;
}
