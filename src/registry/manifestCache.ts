/**
 * registry/manifestCache: manifest bytes by digest, least recently used
 * dropped first, bounded in bytes. Safe without invalidation because a
 * digest names exactly one byte string; whether a repository still has the
 * manifest is always asked of the database first.
 */
export class ManifestCache {
  private readonly map = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(digest: string): Buffer | undefined {
    const b = this.map.get(digest);
    if (b !== undefined) {
      this.map.delete(digest);
      this.map.set(digest, b);
    }
    return b;
  }

  set(digest: string, data: Buffer): void {
    if (data.length > this.maxBytes / 4 || this.map.has(digest)) return;
    this.map.set(digest, data);
    this.bytes += data.length;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= v.length;
    }
  }
}
