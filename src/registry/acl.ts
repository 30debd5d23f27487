/**
 * registry/acl: the repository access list of `berth registry serve --acl FILE`
 * — which user may pull, push or delete which repositories. One rule a line:
 *
 *     # WHO        REPOSITORIES     ACTIONS
 *     alice        **               *
 *     *            ${user}/**       pull,push,delete
 *     *            library/**       pull
 *     anonymous    public/**        pull
 *
 * WHO is a user name from the htpasswd file, `*` (any logged-in user) or
 * `anonymous` (a client that did not log in; it may only pull — a push always
 * needs a login). REPOSITORIES is a pattern over repository names: `*`
 * matches within one path component, `**` across components, and `${user}`
 * stands for the name of the user asking. ACTIONS: pull, push, delete, or
 * `*` for all three, comma-separated. What a user may do is the union of
 * every rule that matches; there are no deny rules. Pure: text in, answers out.
 */
import { InvalidArgumentError } from '../errdefs/errors.js';

export type AclAction = 'pull' | 'push' | 'delete';
const ALL: readonly AclAction[] = ['pull', 'push', 'delete'];

/** Who a request is: a logged-in user's name, or undefined for anonymous. */
export type Subject = string | undefined;

interface Rule {
  who: { kind: 'user'; name: string } | { kind: 'any-user' } | { kind: 'anonymous' };
  pattern: string;
  /** Pattern pieces split at `${user}`, each already turned into regular-expression source. */
  pieces: string[];
  actions: ReadonlySet<AclAction>;
}

const USER_VAR = '${user}';
/** What a pattern may hold besides wildcards: the characters of repository names. */
const PATTERN_RE = /^[a-z0-9._\-/*]+$/;

function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        out += '.*';
        i++;
      } else {
        out += '[^/]*';
      }
    } else {
      out += c.replace(/[.\\+?^$()[\]{}|-]/g, '\\$&');
    }
  }
  return out;
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

export class Acl {
  /** Compiled patterns by the text they were built from (with the user substituted). */
  private readonly compiled = new Map<string, RegExp>();

  private constructor(readonly rules: readonly Rule[]) {}

  /** Parses an ACL file; errors name the file and line. */
  static parse(text: string, source = 'acl'): Acl {
    const rules: Rule[] = [];
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/#.*$/, '').trim();
      if (line === '') return;
      const at = `${source}:${i + 1}`;
      const fields = line.split(/\s+/);
      if (fields.length !== 3) throw new InvalidArgumentError(`${at}: expected "WHO REPOSITORIES ACTIONS", got ${fields.length} fields`);
      const [whoText, pattern, actionText] = fields as [string, string, string];
      let who: Rule['who'];
      if (whoText === '*') who = { kind: 'any-user' };
      else if (whoText === 'anonymous') who = { kind: 'anonymous' };
      else if (/^[^:\s]+$/.test(whoText)) who = { kind: 'user', name: whoText };
      else throw new InvalidArgumentError(`${at}: invalid user "${whoText}"`);

      const pieces = pattern.split(USER_VAR);
      if (pieces.some((p) => p !== '' && !PATTERN_RE.test(p))) {
        throw new InvalidArgumentError(`${at}: invalid repository pattern "${pattern}" (repository-name characters, *, ** and \${user} only)`);
      }
      if (who.kind === 'anonymous' && pieces.length > 1) throw new InvalidArgumentError(`${at}: \${user} means nothing for anonymous`);

      const actions = new Set<AclAction>();
      for (const a of actionText.split(',')) {
        if (a === '*') ALL.forEach((x) => actions.add(x));
        else if ((ALL as readonly string[]).includes(a)) actions.add(a as AclAction);
        else throw new InvalidArgumentError(`${at}: unknown action "${a}" (pull, push, delete or *)`);
      }
      if (who.kind === 'anonymous' && (actions.has('push') || actions.has('delete'))) {
        throw new InvalidArgumentError(`${at}: anonymous clients may only pull (pushes and deletes need a login)`);
      }
      rules.push({ who, pattern, pieces: pieces.map(globToRegex), actions });
    });
    return new Acl(rules);
  }

  /** Whether some rule lets anonymous clients do anything (then they may list the catalog). */
  get anonymousRules(): boolean {
    return this.rules.some((r) => r.who.kind === 'anonymous');
  }

  private matches(rule: Rule, subject: Subject, repo: string): boolean {
    const w = rule.who;
    if (w.kind === 'anonymous' ? subject !== undefined : subject === undefined) return false;
    if (w.kind === 'user' && w.name !== subject) return false;
    const source = rule.pieces.join(escapeRegex(subject ?? ''));
    let re = this.compiled.get(source);
    if (re === undefined) {
      re = new RegExp(`^(?:${source})$`);
      // Bounded: one entry per rule and user seen.
      if (this.compiled.size > 10_000) this.compiled.clear();
      this.compiled.set(source, re);
    }
    return re.test(repo);
  }

  /** What `subject` may do on repository `repo`: the union of the matching rules. */
  actions(subject: Subject, repo: string): Set<AclAction> {
    const out = new Set<AclAction>();
    for (const r of this.rules) {
      if (!this.matches(r, subject, repo)) continue;
      for (const a of r.actions) out.add(a);
      if (out.size === ALL.length) break;
    }
    return out;
  }
}
