/**
 * distribution/challenge: parses `WWW-Authenticate` headers (RFC 7235
 * auth-params, quoted strings with escapes) into challenges. Pure.
 */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const s = header;
  const skipWs = (): void => {
    while (i < s.length && /[\s,]/.test(s[i] as string)) i++;
  };
  while (i < s.length) {
    skipWs();
    const m = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/.exec(s.slice(i));
    if (!m) break;
    const scheme = m[0].toLowerCase();
    i += m[0].length;
    const params: Record<string, string> = {};
    for (;;) {
      while (i < s.length && /\s/.test(s[i] as string)) i++;
      const km = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*/.exec(s.slice(i));
      if (!km) break;
      i += km[0].length;
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        i++;
      } else {
        const vm = /^[^,\s]*/.exec(s.slice(i));
        value = vm?.[0] ?? '';
        i += value.length;
      }
      params[(km[1] as string).toLowerCase()] = value;
      while (i < s.length && /\s/.test(s[i] as string)) i++;
      if (s[i] === ',') {
        // Either the next param of this challenge or the next challenge: look ahead for "k=".
        const rest = s.slice(i + 1);
        if (/^\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+\s*=/.test(rest)) {
          i++;
          continue;
        }
        i++;
      }
      break;
    }
    out.push({ scheme, params });
  }
  return out;
}
