/**
 * What the CLI needs of the process beyond `Console`: whether the streams are terminals, standard input, and
 * raw writes to stderr for a progress line. A service, so tests can run commands in-process.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly stdinIsTTY: boolean
  readonly stderrIsTTY: boolean
  /** Whether stdout may carry ANSI styles (a terminal, and `NO_COLOR` unset). */
  readonly color: boolean
  /** All of standard input, as text. */
  readonly readStdin: Effect.Effect<string, Error>
  /** Writes to stderr without a newline (progress lines rewritten with `\r`). */
  readonly writeStderr: (text: string) => Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Stdio extends Context.Tag("@effect-github/cli/Stdio")<Stdio, Service>() {}

/**
 * The current process's streams.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Stdio> = Layer.sync(Stdio, () =>
  Stdio.of({
    stdinIsTTY: process.stdin.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    color: process.stdout.isTTY === true && (process.env.NO_COLOR ?? "") === "",
    readStdin: Effect.tryPromise({
      try: async () => {
        const chunks: Array<Buffer> = []
        for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer))
        return Buffer.concat(chunks).toString("utf8")
      },
      catch: (cause) => new Error(`could not read standard input: ${String(cause)}`)
    }),
    writeStderr: (text) => Effect.sync(() => void process.stderr.write(text))
  }))

/**
 * Fixed streams: no terminals, the given standard input, stderr writes dropped. For tests and embedding.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTest = (options: {
  readonly stdin?: string | undefined
  readonly stdinIsTTY?: boolean | undefined
  readonly stderrIsTTY?: boolean | undefined
  readonly writeStderr?: ((text: string) => void) | undefined
} = {}): Layer.Layer<Stdio> =>
  Layer.succeed(
    Stdio,
    Stdio.of({
      stdinIsTTY: options.stdinIsTTY ?? false,
      stderrIsTTY: options.stderrIsTTY ?? false,
      color: false,
      readStdin: Effect.succeed(options.stdin ?? ""),
      writeStderr: (text) => Effect.sync(() => options.writeStderr?.(text))
    })
  )
