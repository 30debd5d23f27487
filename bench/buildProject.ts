/**
 * bench/buildProject: the realistic project the build benches use — a Dockerfile of 5 stages and 20
 * instructions over 2,000 files / 50 MB, the same bytes every run — and a small one (the issue's
 * "small file" case). Writes files only.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DOCKERFILE = `ARG VERSION=1.0
FROM busybox AS deps
WORKDIR /deps
COPY deps/ ./
RUN find . -type f | wc -l > /deps.count
FROM busybox AS assets
COPY assets/ /assets/
RUN du -s /assets > /assets.size
FROM busybox AS build
ARG VERSION
WORKDIR /src
COPY --from=deps /deps.count /tmp/
COPY src/ ./
RUN cat $(find . -name '*.c' | sort | head -200) | md5sum > /build.sum && echo "$VERSION" >> /build.sum
FROM busybox AS test
COPY --from=build /build.sum /
RUN test -s /build.sum && cp /build.sum /tested
FROM busybox
COPY --from=test /tested /app/tested
COPY --from=assets /assets /app/assets
COPY --from=build /build.sum /app/
LABEL org.example.bench=build
CMD ["cat", "/app/build.sum"]
`;

/** Deterministic bytes (the same project every run). */
export function bytes(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  let block = createHash('sha256').update(seed).digest();
  for (let off = 0; off < n; off += block.length) {
    block.copy(out, off);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** 2,000 files, 50 MB: 1,500 sources (~6 KB), 490 dependency files (~4 KB), 10 assets (~4 MB). */
export function makeProject(dir: string): { files: number; bytes: number } {
  let files = 1;
  let total = DOCKERFILE.length;
  writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
  writeFileSync(join(dir, '.dockerignore'), '*.tmp\n');
  const put = (rel: string, data: Buffer): void => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), data);
    files++;
    total += data.length;
  };
  for (let i = 0; i < 1500; i++) put(`src/mod${i % 30}/file${i}.c`, bytes(`src${i}`, 6000));
  for (let i = 0; i < 489; i++) put(`deps/pkg${i % 20}/dep${i}.js`, bytes(`dep${i}`, 4000));
  for (let i = 0; i < 10; i++) put(`assets/blob${i}.bin`, bytes(`asset${i}`, 4_150_000));
  return { files, bytes: total };
}

/** A small project: one stage, a few instructions, three small files. */
export function makeSmallProject(dir: string): void {
  writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nWORKDIR /app\nCOPY . /app/\nRUN cat /app/main.c > /app/built\nENV MODE=prod\nCMD ["cat", "/app/built"]\n');
  writeFileSync(join(dir, 'main.c'), 'int main(void) { return 0; }\n');
  writeFileSync(join(dir, 'README'), 'small\n');
  writeFileSync(join(dir, '.dockerignore'), '*.tmp\n');
}
