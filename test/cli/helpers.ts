import { Cli, Stdio } from "@effect-github/cli"
import { GithubSimulator } from "@effect-github/testing"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { ConfigProvider, type Console, Effect, Layer, Redacted } from "effect"

export interface Result {
  readonly code: Cli.ExitCode
  readonly stdout: string
  readonly stderr: string
  /** Raw writes to stderr (the progress line). */
  readonly stderrRaw: string
}

export interface RunOptions {
  /** The whole environment the CLI sees through `Config` (nothing of the real one). */
  readonly env?: Readonly<Record<string, string>> | undefined
  readonly stdin?: string | undefined
  readonly stdinIsTTY?: boolean | undefined
  readonly stderrIsTTY?: boolean | undefined
}

const text = (args: ReadonlyArray<unknown>) => args.map(String).join(" ")

/** Runs `github-app <args>` in-process with a captured Console, the given environment and standard input. */
export const runCli = (args: ReadonlyArray<string>, options: RunOptions = {}) =>
  Effect.gen(function*() {
    const out: Array<string> = []
    const err: Array<string> = []
    let raw = ""
    const base = yield* Effect.console
    const capture = {
      log: (...args: ReadonlyArray<unknown>) => void out.push(text(args)),
      error: (...args: ReadonlyArray<unknown>) => void err.push(text(args))
    }
    const console: Console.Console = Object.assign(Object.create(base) as Console.Console, {
      log: (...args: ReadonlyArray<unknown>) => Effect.sync(() => capture.log(...args)),
      error: (...args: ReadonlyArray<unknown>) => Effect.sync(() => capture.error(...args)),
      unsafe: Object.assign(Object.create(base.unsafe) as Console.UnsafeConsole, capture)
    })
    const code = yield* Cli.run(args).pipe(
      Effect.withConsole(console),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(options.env ?? {})))),
      Effect.provide(Layer.merge(
        NodeContext.layer,
        Stdio.layerTest({
          stdin: options.stdin,
          stdinIsTTY: options.stdinIsTTY,
          stderrIsTTY: options.stderrIsTTY,
          writeStderr: (chunk) => void (raw += chunk)
        })
      ))
    )
    return { code, stdout: out.join("\n"), stderr: err.join("\n"), stderrRaw: raw } satisfies Result
  })

export const installations: ReadonlyArray<GithubSimulator.InstallationSpec> = [
  { account: "octo-org", repositories: ["hello-world", "docs", "api"] },
  { account: "octocat", type: "User", repositories: ["dotfiles"] },
  { account: "octo-enterprise", type: "Enterprise", repositories: 1 }
]

/** A simulator on loopback and the environment that points the CLI at it. */
export const startSimulator = (options: GithubSimulator.Options = {}) =>
  Effect.gen(function*() {
    const sim = yield* GithubSimulator.make({ installations, installationCount: 0, ...options })
    const { url } = yield* sim.server
    const env = {
      GITHUB_APP_ID: String(sim.app.id),
      GITHUB_APP_PRIVATE_KEY: Redacted.value(sim.app.privateKey),
      GITHUB_API_URL: url
    }
    return { sim, url, env }
  })

/** Secrets that must never be printed: the key, in any of its lines. */
export const assertNoKey = (result: Result, privateKey: Redacted.Redacted<string>) => {
  const body = Redacted.value(privateKey).split("\n").filter((line) => line.length > 20 && !line.startsWith("-----"))
  for (const line of body.slice(0, 3)) {
    if (result.stdout.includes(line) || result.stderr.includes(line)) throw new Error("the private key was printed")
  }
}
