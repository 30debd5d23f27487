/**
 * build/dockerfile/parseError: the one error the Dockerfile parser throws. It
 * is an InvalidArgumentError (HTTP 400 at the edge) that also carries the
 * lines it is about and BuildKit's bare message (`detail`), so the builder can
 * re-word or point at the source; `message` is already what Docker prints.
 */
import { InvalidArgumentError } from '../../errdefs/errors.js';

export class DockerfileParseError extends InvalidArgumentError {
  constructor(
    message: string,
    /** BuildKit's message without any prefix (`unknown instruction: FOO`). */
    readonly detail: string,
    /** 1-based first line of the offending instruction (0 when not about a line). */
    readonly line: number,
    readonly endLine: number = line,
  ) {
    super(message);
  }
}
