/**
 * build/dockerfile/builderFlags: BuildKit's BFlags (instructions/bflag.go) —
 * the `--name[=value]` words before an instruction's arguments, checked
 * against the flags that instruction declares. Errors carry BuildKit's wording
 * (`unknown flag: --foo (did you mean from?)`, `missing a value on flag:
 * --from`). Pure; throws plain Errors that parser.ts places on a line.
 */
import { withSuggestion } from './goText.js';

type FlagType = 'bool' | 'string' | 'strings';

interface FlagDef {
  type: FlagType;
  /** Last value (bool: "true"/"false"; string: as given or the default). */
  value: string;
  /** Every value of a repeatable (strings) flag. */
  values: string[];
  used: boolean;
}

export class BuilderFlags {
  private readonly defs = new Map<string, FlagDef>();

  constructor(private readonly args: readonly string[]) {}

  addBool(name: string, def = false): void {
    this.defs.set(name, { type: 'bool', value: def ? 'true' : 'false', values: [], used: false });
  }

  addString(name: string, def = ''): void {
    this.defs.set(name, { type: 'string', value: def, values: [], used: false });
  }

  addStrings(name: string): void {
    this.defs.set(name, { type: 'strings', value: '', values: [], used: false });
  }

  /** Check the words against the declared flags and record their values. */
  parse(): void {
    for (const a of this.args) {
      // `--` ends the flags (POSIX utility syntax).
      if (a === '--') return;
      if (!a.startsWith('--')) throw new Error(`arg should start with -- : ${a}`);
      const eq = a.indexOf('=');
      const hasValue = eq >= 0;
      const flagName = hasValue ? a.slice(0, eq) : a;
      const value = hasValue ? a.slice(eq + 1) : '';
      const name = flagName.slice(2);
      const flag = this.defs.get(name);
      if (flag === undefined) {
        throw new Error(withSuggestion(`unknown flag: ${flagName}`, name, [...this.defs.keys()], true));
      }
      if (flag.used && flag.type !== 'strings') throw new Error(`duplicate flag specified: ${flagName}`);
      flag.used = true;
      switch (flag.type) {
        case 'bool':
          // A bare --flag means true; --flag= (empty) is an error.
          if (hasValue && value === '') throw new Error(`missing a value on flag: ${flagName}`);
          switch (value.toLowerCase()) {
            case 'true':
            case '':
              flag.value = 'true';
              break;
            case 'false':
              flag.value = 'false';
              break;
            default:
              throw new Error(`expecting boolean value for flag ${flagName}, not: ${value}`);
          }
          break;
        case 'string':
          if (!hasValue) throw new Error(`missing a value on flag: ${flagName}`);
          flag.value = value;
          break;
        case 'strings':
          if (!hasValue) throw new Error(`missing a value on flag: ${flagName}`);
          flag.values.push(value);
          break;
      }
    }
  }

  /** The flag's value after parse() (its default when not given). */
  value(name: string): string {
    return this.defs.get(name)?.value ?? '';
  }

  values(name: string): string[] {
    return this.defs.get(name)?.values ?? [];
  }

  isUsed(name: string): boolean {
    return this.defs.get(name)?.used ?? false;
  }

  isTrue(name: string): boolean {
    return this.value(name) === 'true';
  }

  /**
   * The flags given, by name, with their values as parsed (bool flags as
   * "true"/"false"); the AST's `flags` record.
   */
  given(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, def] of this.defs) {
      if (!def.used) continue;
      out[name] = def.type === 'strings' ? [...def.values] : [def.value];
    }
    return out;
  }
}
