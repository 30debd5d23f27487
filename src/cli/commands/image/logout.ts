/**
 * `berth logout`: removes a registry's credentials from the docker config
 * file, under every spelling docker ever stored them (host, http://host,
 * https://host). Never talks to the daemon.
 */
import { DOCKER_HUB_AUTH_KEY, removeCredentials } from '../../../distribution/credentials.js';
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { errorText } from '../../errors.js';
import { convertToHostname, dockerConfigFile } from './registryAuth.js';

export const spec: CommandSpec = {
  usage: '[SERVER]',
  short: 'Log out from a registry',
  args: { kind: 'max', n: 1 },
  flags: [],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  let server = p.args[0] ?? '';
  const isDefault = server === '';
  if (isDefault) server = DOCKER_HUB_AUTH_KEY;
  const host = isDefault ? server : convertToHostname(server);
  const keys = isDefault ? [server] : [server, host, `http://${host}`, `https://${host}`];
  ctx.out(`Removing login credentials for ${host}\n`);
  const file = dockerConfigFile(ctx.env);
  const errors: string[] = [];
  for (const k of [...new Set(keys)]) {
    try {
      // removeCredentials maps only "docker.io" to Docker Hub's key, so each spelling is removed as is.
      await removeCredentials(k, file);
    } catch (e) {
      errors.push(`${k}: ${errorText(e)}`);
    }
  }
  if (errors.length === new Set(keys).size) ctx.err(`WARNING: could not erase credentials:\n${errors.join('\n')}\n`);
  return 0;
}
