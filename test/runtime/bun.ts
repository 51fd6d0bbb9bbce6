/**
 * `pnpm test:bun`: proves the core is portable. Serves the simulator on loopback from Node, runs
 * `test/runtime/core.bun.ts` under Bun (the `bun` devDependency) against it, then checks at the simulator what Bun's
 * client sent (one token mint for concurrent callers and the cache, three pages of installations). Prints
 * `PASS` or `FAIL` and exits non-zero on failure.
 */
import { GithubSimulator } from "@effect-github/testing"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { spawn } from "node:child_process"
import { createPrivateKey, generateKeyPairSync } from "node:crypto"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")
const bun = Path.join(root, "node_modules/.bin/bun")

const runBun = (env: Record<string, string>) =>
  Effect.async<number, Error>((resume) => {
    const child = spawn(bun, [Path.join(root, "test/runtime/core.bun.ts")], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "inherit", "inherit"]
    })
    child.once("error", (error) => resume(Effect.fail(error)))
    child.once("exit", (code, signal) => resume(Effect.succeed(code ?? (signal === null ? 1 : 128))))
    return Effect.sync(() => child.kill())
  })

const MINT = "POST /app/installations/{installation_id}/access_tokens"

const main = Effect.gen(function*() {
  const sim = yield* GithubSimulator.make({
    installations: [{ account: "octo-org", repositories: ["api", "docs"] }],
    installationCount: 4
  })
  const { url } = yield* sim.server
  const pkcs1 = Redacted.value(sim.app.privateKey)
  const world = {
    url,
    appId: sim.app.id,
    pkcs1,
    pkcs8: createPrivateKey(pkcs1).export({ type: "pkcs8", format: "pem" }).toString(),
    ecKey: generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ type: "pkcs8", format: "pem" })
      .toString(),
    publicKey: sim.app.publicKey,
    installationIds: sim.installations.map((installation) => installation.id),
    repository: { owner: "octo-org", repo: "api", installationId: sim.installations[0]!.id }
  }
  const code = yield* runBun({ EFFECT_GITHUB_RUNTIME_WORLD: JSON.stringify(world) })
  const problems: Array<string> = []
  if (code !== 0) problems.push(`the Bun checks exited with ${code}`)
  // One mint for the two concurrent callers and the cached call, one for the narrowed token.
  const mints = yield* sim.count(MINT)
  if (code === 0 && mints !== 2) problems.push(`expected 2 token mints at the simulator, saw ${mints}`)
  const pages = yield* sim.count("GET /app/installations")
  if (code === 0 && pages !== 3) problems.push(`expected 3 pages of 2 installations, saw ${pages}`)
  return problems
})

const problems = await Effect.runPromise(Effect.scoped(main)).catch((error) => [`could not run: ${String(error)}`])
if (problems.length === 0) {
  console.log("bun runtime check: PASS")
} else {
  console.error(`bun runtime check: FAIL\n${problems.map((problem) => `  - ${problem}`).join("\n")}`)
  process.exitCode = 1
}
