/**
 * cli/flows/createContainer: docker's createContainer() shared by `run` and
 * `create` — --cidfile, --pull=always, POST /containers/create, and on a 404
 * "Unable to find image 'x:latest' locally" + POST /images/create + one retry.
 * Prints only what docker prints (pull progress and WARNINGs on stderr).
 */
import { existsSync, openSync, closeSync, unlinkSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { isNotFoundError } from '../../client/errors.js';
import { familiarString, fullName, isNamed, parseAnyReference, withDefaultTag, type Reference } from '../../reference/index.js';
import type { ContainerCreateResponse } from '../../client/types.js';
import type { CliContext, OutStream } from '../context.js';
import { displayJSONMessages } from '../format/jsonDisplay.js';
import type { ContainerConfigResult } from '../opts/containerOpts.js';

/** X-Registry-Auth for an anonymous pull: base64url of `{}`. */
const ANONYMOUS_AUTH = 'e30=';

class CIDFile {
  private fd: number | undefined;
  private written = false;

  constructor(private readonly path: string) {
    if (path === '') return;
    if (existsSync(path)) {
      throw new Error(`container ID file found, make sure the other container isn't running or delete ${path}`);
    }
    try {
      this.fd = openSync(path, 'wx');
    } catch (e) {
      throw new Error(`failed to create the container ID file: ${(e as Error).message}`);
    }
  }

  write(id: string): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, id);
    this.written = true;
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    if (!this.written) {
      try {
        unlinkSync(this.path);
      } catch (e) {
        throw new Error(`failed to remove the CID file '${this.path}': ${(e as Error).message}`);
      }
    }
  }
}

const discard = (): OutStream =>
  new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });

/** POST /images/create?fromImage=&tag= and render its progress on stderr (docker's pullImage). */
export async function pullImage(ctx: CliContext, ref: Reference, platform: string, quiet: boolean): Promise<void> {
  const opts: Parameters<typeof ctx.client.imageCreate>[0] = {
    fromImage: fullName(ref),
    // docker's getAPITagFromNamedRef: the digest, else the tag (latest by default).
    tag: ref.digest ?? withDefaultTag(ref).tag ?? 'latest',
    registryAuth: ANONYMOUS_AUTH,
  };
  if (platform !== '') opts.platform = platform;
  const body = await ctx.client.imageCreate(opts);
  await displayJSONMessages(body, quiet ? discard() : ctx.stderr);
}

/** Creates the container (pulling once if the image is missing); returns its ID. */
export async function createContainer(ctx: CliContext, cfg: ContainerConfigResult): Promise<string> {
  const cid = new CIDFile(cfg.body.HostConfig.ContainerIDFile);
  try {
    const image = cfg.body.Image;
    const any = parseAnyReference(image);
    const namedRef = isNamed(any) ? withDefaultTag(any) : undefined;

    if (cfg.pull === 'always' && namedRef !== undefined) await pullImage(ctx, namedRef, cfg.platform, cfg.quiet);

    const createOpts: { name?: string; platform?: string } = {};
    if (cfg.name !== '') createOpts.name = cfg.name;
    if (cfg.platform !== '') createOpts.platform = cfg.platform;

    let response: ContainerCreateResponse;
    try {
      response = await ctx.client.containerCreate(cfg.body, createOpts);
    } catch (e) {
      if (!(isNotFoundError(e) && namedRef !== undefined && cfg.pull === 'missing')) throw e;
      // Keep stdout for the container ID alone.
      if (!cfg.quiet) ctx.err(`Unable to find image '${familiarString(namedRef)}' locally\n`);
      await pullImage(ctx, namedRef, cfg.platform, cfg.quiet);
      response = await ctx.client.containerCreate(cfg.body, createOpts);
    }
    for (const w of response.Warnings ?? []) ctx.err(`WARNING: ${w}\n`);
    cid.write(response.Id);
    return response.Id;
  } finally {
    cid.close();
  }
}
