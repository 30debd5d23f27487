/**
 * images/progress: the progress messages image operations report (Docker's
 * JSON message fields), and Docker's short layer IDs. The API layer writes
 * them out; image code only calls `report`.
 */
export interface ProgressMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  aux?: unknown;
}

export type Progress = (m: ProgressMessage) => void;

export const noProgress: Progress = () => undefined;

/** Docker shows layers by the first 12 hex digits of their digest. */
export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** Docker's pre-rendered bar ("[=====>    ]  1.2MB/3.4MB"), for clients that print it. */
export function progressBar(current: number, total: number): string {
  const units = (n: number): string => {
    const u = ['B', 'kB', 'MB', 'GB', 'TB'];
    let i = 0;
    let v = n;
    while (v >= 1000 && i < u.length - 1) {
      v /= 1000;
      i++;
    }
    return `${i === 0 ? v : v.toFixed(i > 1 ? 2 : 1).replace(/\.?0+$/, '')}${u[i]}`;
  };
  if (total <= 0) return `${units(current)}`;
  const width = 50;
  const filled = Math.min(width, Math.floor((current / total) * width));
  const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}`;
  return `[${bar}] ${units(current)}/${units(total)}`;
}
