/**
 * registry/policy: what a subject (a logged-in user, or anonymous) may do —
 * the one place that combines the ACL file (when there is one), the
 * `--anonymous-pull` switch and the defaults:
 *  - without an ACL, a logged-in user may do everything, and anonymous
 *    clients may pull when --anonymous-pull is set;
 *  - with an ACL, a user may do what its rules grant (acl.ts);
 *  - whatever anonymous clients may do, logged-in users may do too;
 *  - anonymous clients never push or delete.
 * The catalog is open to logged-in users, and to anonymous clients when they
 * may pull something; it lists only the repositories the caller may pull.
 * Pure.
 */
import type { Acl, AclAction, Subject } from './acl.js';

export type Action = AclAction | '*';

/** One permission a request needs: `repository`/`foo/bar`/`push`, or `registry`/`catalog`/`*`. */
export interface Need {
  type: 'repository' | 'registry';
  name: string;
  action: Action;
}

const EVERY_ACTION: readonly AclAction[] = ['pull', 'push', 'delete'];

export class Policy {
  constructor(
    private readonly acl: Acl | undefined,
    private readonly anonymousPull: boolean,
  ) {}

  /** What `subject` may do on repository `repo`. */
  repositoryActions(subject: Subject, repo: string): Set<AclAction> {
    if (subject !== undefined && this.acl === undefined) return new Set(EVERY_ACTION);
    const out = this.acl?.actions(subject, repo) ?? new Set<AclAction>();
    if (this.anonymousPull) out.add('pull');
    if (subject !== undefined && this.acl !== undefined) {
      for (const a of this.acl.actions(undefined, repo)) out.add(a);
    }
    if (subject === undefined) {
      out.delete('push');
      out.delete('delete');
    }
    return out;
  }

  /** Whether anonymous clients may pull anything at all. */
  get anonymousAllowed(): boolean {
    return this.anonymousPull || (this.acl?.anonymousRules ?? false);
  }

  mayListCatalog(subject: Subject): boolean {
    return subject !== undefined || this.anonymousAllowed;
  }

  /** Whether `subject` may see `repo` in the catalog. */
  visible(subject: Subject, repo: string): boolean {
    return this.repositoryActions(subject, repo).has('pull');
  }

  /** Whether every catalog entry is visible to `subject` (no filtering needed). */
  seesEverything(subject: Subject): boolean {
    return subject !== undefined && this.acl === undefined;
  }

  allows(subject: Subject, need: Need): boolean {
    if (need.type === 'registry') return need.name === 'catalog' && this.mayListCatalog(subject);
    const acts = this.repositoryActions(subject, need.name);
    return need.action === '*' ? acts.size === EVERY_ACTION.length : acts.has(need.action);
  }

  /** The subset of `actions` on a resource that `subject` may be granted (for a token). */
  grantable(subject: Subject, type: string, name: string, actions: readonly string[]): string[] {
    if (type === 'registry') {
      return name === 'catalog' && this.mayListCatalog(subject) ? actions.filter((a) => a === '*') : [];
    }
    if (type !== 'repository') return [];
    const acts = this.repositoryActions(subject, name);
    return actions.filter((a) => (a === '*' ? acts.size === EVERY_ACTION.length : acts.has(a as AclAction)));
  }
}
