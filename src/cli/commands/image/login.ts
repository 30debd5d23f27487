/**
 * `berth login`: POST /auth (the daemon checks the credentials against the
 * registry), then stores them in the docker config file so berth and docker
 * share logins. Flags, prompts, messages and errors follow docker v28 (its
 * Docker Hub web login aside): stored credentials are tried first when no
 * username or password is given; an interactive prompt needs a terminal.
 */
import { DOCKER_HUB_AUTH_KEY, saveCredentials, storedCredentials } from '../../../distribution/credentials.js';
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { ApiError } from '../../../client/errors.js';
import { errorText } from '../../errors.js';
import { ImageApi, type RegistryAuthConfig } from './imageApi.js';
import { convertToHostname, dockerConfigFile } from './registryAuth.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] [SERVER]',
  short: 'Authenticate to a registry',
  args: { kind: 'max', n: 1 },
  flags: [
    { name: 'password', short: 'p', type: 'string', usage: 'Password or Personal Access Token (PAT)' },
    { name: 'password-stdin', type: 'bool', usage: 'Take the Password or Personal Access Token (PAT) from stdin' },
    { name: 'username', short: 'u', type: 'string', usage: 'Username' },
  ],
};

const UNENCRYPTED_WARNING = (file: string): string =>
  `\nWARNING! Your credentials are stored unencrypted in '${file}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`;

async function readAll(ctx: CliContext): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of ctx.stdin) parts.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(parts).toString('utf8');
}

/** prompt.ReadInput: one line from stdin, echo optionally off (raw mode on a terminal). */
async function readLine(ctx: CliContext, prompt: string, echo: boolean): Promise<string> {
  ctx.out(prompt);
  const stdin = ctx.stdin;
  const raw = !echo && stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  if (raw) stdin.setRawMode?.(true);
  try {
    return await new Promise<string>((resolve, reject) => {
      let line = '';
      const onData = (b: Buffer | string): void => {
        const s = typeof b === 'string' ? b : b.toString('utf8');
        for (const ch of s) {
          if (ch === '\u0003') {
            done();
            reject(new Error('interrupted'));
            return;
          }
          if (ch === '\n' || ch === '\r') {
            done();
            resolve(line);
            return;
          }
          if (ch === '\u007f') line = line.slice(0, -1);
          else line += ch;
        }
      };
      const onEnd = (): void => {
        done();
        resolve(line);
      };
      const done = (): void => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
      };
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      stdin.resume();
    });
  } finally {
    if (raw) stdin.setRawMode?.(false);
  }
}

/**
 * Stores what the login proved. As the docker CLI: an identity token from the
 * daemon replaces the password, which is then not written to disk at all.
 */
async function store(ctx: CliContext, given: RegistryAuthConfig, identityToken: string | undefined): Promise<void> {
  const auth: RegistryAuthConfig = identityToken ? { ...given, password: '', identitytoken: identityToken } : given;
  const file = dockerConfigFile(ctx.env);
  const server = auth.serveraddress ?? '';
  const before = await storedCredentials(server === DOCKER_HUB_AUTH_KEY ? 'docker.io' : server, file);
  if (before && before.username === auth.username && before.password === auth.password && before.identitytoken === auth.identitytoken) return;
  try {
    const creds = { username: auth.username ?? '', password: auth.password ?? '', ...(auth.identitytoken ? { identitytoken: auth.identitytoken } : {}) };
    await saveCredentials(server === DOCKER_HUB_AUTH_KEY ? 'docker.io' : server, creds, file);
  } catch (e) {
    throw new Error(`Error saving credentials: ${errorText(e)}`);
  }
  if (auth.password) ctx.err(UNENCRYPTED_WARNING(file));
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  // verifyLoginFlags
  if (p.changed('password-stdin')) {
    if (p.changed('password')) throw new Error('conflicting options: cannot specify both --password and --password-stdin');
    if (!p.changed('username')) throw new Error('the --password-stdin option requires --username to be set');
  }
  if (p.changed('username') && p.string('username') === '') throw new Error('username is empty');
  if (p.changed('password') && p.string('password') === '') throw new Error('password is empty');

  // verifyLoginOptions
  let user = p.string('username');
  let password = p.string('password');
  if (password !== '') ctx.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  if (p.bool('password-stdin')) {
    if (user === '') throw new Error('username is empty');
    password = (await readAll(ctx)).replace(/\n$/, '').replace(/\r$/, '');
  }

  const arg = p.args[0] ?? '';
  const serverAddress = arg !== '' && arg !== 'docker.io' ? arg : DOCKER_HUB_AUTH_KEY;
  const isDefault = serverAddress === DOCKER_HUB_AUTH_KEY;
  const key = isDefault ? serverAddress : convertToHostname(serverAddress);
  const api = new ImageApi(ctx.client);

  // Stored credentials first, when none were given.
  if (user === '' && password === '') {
    const stored = await storedCredentials(isDefault ? 'docker.io' : key, dockerConfigFile(ctx.env));
    if (stored?.username && stored.password) {
      ctx.err(`Authenticating with existing credentials... [Username: ${stored.username}]\n`);
      ctx.err(`\n Info -> To login with a different account, run '${ctx.bin} logout' followed by '${ctx.bin} login'\n\n\n`);
      const auth: RegistryAuthConfig = { username: stored.username, password: stored.password, serveraddress: key };
      try {
        const res = await api.registryLogin(auth);
        await store(ctx, auth, res.IdentityToken);
        if (res.Status) ctx.out(`${res.Status}\n`);
        return 0;
      } catch (e) {
        if (e instanceof ApiError && e.statusCode === 401) ctx.err('Stored credentials invalid or expired\n');
        else ctx.err(`Login did not succeed, error: ${errorText(e)}\n`);
      }
    }
  }

  // loginUser: prompt for what is missing, which needs a terminal.
  if ((user === '' || password === '') && ctx.stdin.isTTY !== true) {
    throw new Error('Error: Cannot perform an interactive login from a non TTY device');
  }
  user = user.trim();
  if (user === '') {
    user = (await readLine(ctx, 'Username: ', true)).trim();
    if (user === '') throw new Error('Error: Non-null Username Required');
  }
  password = password.trim();
  if (password === '') {
    password = await readLine(ctx, 'Password: ', false);
    ctx.out('\n');
    if (password === '') throw new Error('Error: Password Required');
  }
  const auth: RegistryAuthConfig = { username: user, password, serveraddress: key };
  const res = await api.registryLogin(auth);
  await store(ctx, auth, res.IdentityToken);
  if (res.Status) ctx.out(`${res.Status}\n`);
  return 0;
}
