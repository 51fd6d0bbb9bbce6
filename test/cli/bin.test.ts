import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { startSimulator } from "./helpers.js"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")

/** `github-app <args>` as a real process: the bin's sources run by tsx, workspace packages from their sources. */
const spawnCli = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}) =>
  Effect.async<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resume) => {
    const child = spawn(process.execPath, ["--import", "tsx", "packages/cli/src/bin.ts", ...args], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        TSX_TSCONFIG_PATH: Path.join(root, "test/cli/tsx.tsconfig.json"),
        ...env
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => stdout += chunk)
    child.stderr.on("data", (chunk) => stderr += chunk)
    child.on("close", (code, signal) => resume(Effect.succeed({ code, signal, stdout, stderr })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

describe("the github-app process", () => {
  it.scopedLive("exits with the command's code, a bare token on stdout, and the demo ends by itself", () =>
    Effect.gen(function*() {
      const { env } = yield* startSimulator()
      const [token, usage, demo] = yield* Effect.all([
        spawnCli(["token", "--org", "octo-org", "--permission", "contents=read"], env),
        spawnCli(["token", "--org", "octo-org", "--permission"], env),
        spawnCli(["demo"])
      ], { concurrency: "unbounded" })

      assert.strictEqual(token.code, 0, token.stderr)
      assert.match(token.stdout, /^ghs_\w+\n$/)
      assert.match(token.stderr, /^Installation 1 token, expires .*; permissions contents=read, metadata=read;/)

      assert.strictEqual(usage.code, 2)
      assert.strictEqual(usage.stdout, "")

      // The process exits on its own once the demo is done: nothing (server, sockets, fibers) is left open. A
      // process kept alive never emits "close", so this test then fails at vitest's timeout; how long the demo
      // takes is the benchmark's business, not a test's (wall clock varies with the machine's load).
      assert.strictEqual(demo.code, 0, demo.stderr)
      assert.strictEqual(demo.signal, null)
      assert.include(demo.stdout, "Done: 15 requests over loopback HTTP")
    }))
})
