import { GithubSimulator } from "@effect-github/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"

// The README's whole programs (the blocks that end in `Effect.runPromise`), run as written, as processes, with
// the environment pointing them at a simulator on loopback: what a reader does with GITHUB_API_URL set.
// Every block also type-checks in `scripts/docs-check.ts`; this proves the runnable ones run.
const root = Path.join(__dirname, "..", "..")

const programs = (): Array<{ readonly line: number; readonly code: string }> => {
  const lines = Fs.readFileSync(Path.join(root, "README.md"), "utf8").split("\n")
  const out: Array<{ line: number; code: string }> = []
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== "```ts") continue
    let end = i + 1
    while (lines[end] !== "```") end++
    const code = lines.slice(i + 1, end).join("\n")
    if (/^Effect\.runPromise\(/m.test(code)) out.push({ line: i + 2, code })
    i = end
  }
  return out
}

const run = (file: string, env: Readonly<Record<string, string>>) =>
  Effect.async<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resume) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        // the workspace packages resolved to their sources, as in vitest
        TSX_TSCONFIG_PATH: Path.join(root, "test/cli/tsx.tsconfig.json"),
        ...env
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => stdout += chunk)
    child.stderr.on("data", (chunk) => stderr += chunk)
    child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    return Effect.sync(() => void child.kill())
  })

describe("README programs run against the simulator", () => {
  const found = programs()

  it("there are programs to run: the Integration example and the methods program at least", () => {
    assert.isAtLeast(found.length, 2)
    assert.isTrue(found.some(({ code }) => code.includes("github.eachRepository()")))
  })

  for (const { code, line } of found) {
    it.scopedLive(`README.md:${line}`, () =>
      Effect.gen(function*() {
        const sim = yield* GithubSimulator.make({
          installations: [
            { account: "octo-org", repositories: ["api", "docs"] },
            { account: "octocat", type: "User", repositories: ["dotfiles"] },
            { account: "octo-enterprise", type: "Enterprise", repositories: 1 }
          ],
          installationCount: 0
        })
        const { url } = yield* sim.server
        const dir = Fs.mkdtempSync(Path.join(root, "node_modules", ".cache", "readme-program-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true })))
        const file = Path.join(dir, "program.ts")
        Fs.writeFileSync(file, code)
        const result = yield* run(file, {
          GITHUB_APP_ID: String(sim.app.id),
          GITHUB_APP_PRIVATE_KEY: Redacted.value(sim.app.privateKey),
          GITHUB_API_URL: url
        })
        assert.strictEqual(result.code, 0, result.stderr + result.stdout)
        // it talked to the simulator, as the app (a JWT GitHub accepted: GET /app answered 200)
        const requests = yield* sim.requests
        assert.isTrue(requests.some((r) => r.route === "GET /app" && r.status === 200), result.stdout)
      }))
  }
})
