/**
 * `berth images` / `berth image ls`: GET /images/json and docker's table —
 * REPOSITORY, TAG, IMAGE ID, CREATED, SIZE — one row per repository:tag,
 * `<none>` for dangling images, `-q`, `--digests`, `--format`.
 */
import type { CommandSpec, Invocation, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { familiarName, parseNormalizedNamed } from '../../../reference/index.js';
import type { ImageSummary } from '../../../client/types.js';
import { truncateID } from '../../format/display.js';
import { addFilter, buildFilters, goTimeString, validateFilter, writeFormatted } from '../../format/filters.js';
import { DOCKER_TABLE, Tabwriter } from '../../format/tabwriter.js';
import { humanSince, humanSize, humanSizeWithPrecision } from '../../format/units.js';

const FORMAT_HELP =
  "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

export const spec: CommandSpec = {
  usage: '[OPTIONS] [REPOSITORY[:TAG]]',
  short: 'List images',
  aliases: ['image ls', 'image list', 'images'],
  args: { kind: 'max', n: 1 },
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Show all images (default hides intermediate images)' },
    { name: 'digests', type: 'bool', usage: 'Show digests' },
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', usage: 'Filter output based on conditions provided', validate: validateFilter },
    { name: 'format', type: 'string', usage: FORMAT_HELP },
    { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Only show image IDs' },
  ],
};

const HEADERS: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

interface ImageRow {
  repo: string;
  tag: string;
  digest: string;
  img: ImageSummary;
}

function isDangling(img: ImageSummary): boolean {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

/** formatter.imageFormat: one row per repo:tag (× digest when asked), in the API's order. */
export function imageRows(images: ImageSummary[], showDigests: boolean, needDigest: boolean): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const img of images) {
    if (isDangling(img)) {
      rows.push({ repo: '<none>', tag: '<none>', digest: '<none>', img });
      continue;
    }
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const s of img.RepoTags ?? []) {
      try {
        const ref = parseNormalizedNamed(s);
        if (ref.tag !== undefined) {
          const name = familiarName(ref);
          repoTags.set(name, [...(repoTags.get(name) ?? []), ref.tag]);
        }
      } catch {
        // unparseable tags are skipped, as docker does
      }
    }
    for (const s of img.RepoDigests ?? []) {
      try {
        const ref = parseNormalizedNamed(s);
        if (ref.digest !== undefined) {
          const name = familiarName(ref);
          repoDigests.set(name, [...(repoDigests.get(name) ?? []), ref.digest]);
        }
      } catch {
        // skipped
      }
    }
    for (const [repo, tags] of repoTags) {
      let digests = repoDigests.get(repo) ?? [];
      repoDigests.delete(repo);
      if (!needDigest) digests = [];
      for (const tag of tags) {
        if (digests.length === 0) rows.push({ repo, tag, digest: '<none>', img });
        else for (const d of digests) rows.push({ repo, tag, digest: d, img });
      }
    }
    for (const [repo, digests] of repoDigests) {
      if (showDigests) for (const d of digests) rows.push({ repo, tag: '<none>', digest: d, img });
      else rows.push({ repo, tag: '<none>', digest: '', img });
    }
  }
  return rows;
}

function rowContext(r: ImageRow, trunc: boolean, now: number): Record<string, string> {
  const i = r.img;
  return {
    ID: trunc ? truncateID(i.Id) : i.Id,
    Repository: r.repo,
    Tag: r.tag,
    Digest: r.digest,
    CreatedSince: humanSince(i.Created, now),
    CreatedAt: goTimeString(i.Created),
    Size: humanSizeWithPrecision(i.Size, 3),
    Containers: i.Containers === -1 ? 'N/A' : String(i.Containers),
    VirtualSize: humanSize(i.Size),
    SharedSize: i.SharedSize === -1 ? 'N/A' : humanSize(i.SharedSize),
    UniqueSize: i.Size === -1 || i.SharedSize === -1 ? 'N/A' : humanSize(i.Size - i.SharedSize),
  };
}

const AMBIGUOUS = ['build', 'history', 'import', 'inspect', 'list', 'load', 'ls', 'prune', 'pull', 'push', 'rm', 'save', 'tag'];

export async function run(ctx: CliContext, p: ParsedArgs, inv: Invocation): Promise<number> {
  const filters = buildFilters(p.list('filter'));
  const matchName = p.args[0] ?? '';
  if (matchName !== '') addFilter(filters, 'reference', matchName);
  const images = await ctx.client.imageList({ all: p.bool('all'), filters });
  const trunc = !p.bool('no-trunc');
  const showDigests = p.bool('digests');
  const format = p.string('format');
  const needDigest = showDigests || format.includes('{{.Digest}}');
  const now = Date.now();
  const rows = imageRows(images, showDigests, needDigest).map((r) => rowContext(r, trunc, now));
  if (p.bool('quiet')) {
    ctx.out(rows.map((r) => `${r['ID']}\n`).join(''));
  } else if (format === '' || format === 'table') {
    const cols = showDigests ? ['Repository', 'Tag', 'Digest', 'ID', 'CreatedSince', 'Size'] : ['Repository', 'Tag', 'ID', 'CreatedSince', 'Size'];
    const tw = new Tabwriter(DOCKER_TABLE);
    tw.write(`${cols.map((c) => HEADERS[c]).join('\t')}\n`);
    for (const r of rows) tw.write(`${cols.map((c) => r[c] ?? '').join('\t')}\n`);
    ctx.out(tw.flush());
  } else {
    let f = format;
    if (f.startsWith('table') && showDigests && !f.includes('{{.Digest}}')) f += '\t{{.Digest}}';
    ctx.out(writeFormatted(f, rows, HEADERS));
  }
  if (matchName !== '' && images.length === 0 && inv.commandPath.endsWith(' images') && AMBIGUOUS.includes(matchName)) {
    ctx.err(`\nNo images found matching ${JSON.stringify(matchName)}: did you mean "${ctx.bin} image ${matchName}"?\n`);
  }
  return 0;
}
