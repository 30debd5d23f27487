/**
 * server/streams: the Engine API's stream formats — stdcopy frames for
 * multiplexed stdout/stderr and newline-delimited JSON progress messages.
 */
export const StdStream = { stdin: 0, stdout: 1, stderr: 2, system: 3 } as const;

/** One stdcopy frame: [stream, 0, 0, 0, size uint32 BE] + payload. */
export function stdcopyFrame(stream: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

export interface JsonMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  error?: string;
  errorDetail?: { code?: number; message: string };
  aux?: unknown;
}

export function jsonLine(m: JsonMessage): string {
  return `${JSON.stringify(m)}\r\n`;
}
