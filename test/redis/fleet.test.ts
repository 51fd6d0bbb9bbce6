import { GithubSimulator } from "@effect-github/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { type ChildProcess, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { freshPrefix, newKey, noRedis, redisUrl } from "./redis.js"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")
const MINT = "POST /app/installations/{installation_id}/access_tokens"

interface Worker {
  readonly child: ChildProcess
  readonly lines: Array<string>
  readonly waitFor: (predicate: (line: string) => boolean) => Effect.Effect<string>
  readonly exit: Effect.Effect<number | null>
  readonly go: Effect.Effect<void>
}

/** A worker process (tsx, sources), killed when the test's scope closes. */
const worker = (env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync((): Worker => {
      const child = spawn(process.execPath, ["--import", "tsx", "test/redis/fleetWorker.ts"], {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? "",
          TSX_TSCONFIG_PATH: Path.join(root, "test/redis/tsx.tsconfig.json"),
          ...env
        },
        stdio: ["pipe", "pipe", "pipe"]
      })
      const lines: Array<string> = []
      const listeners = new Set<() => void>()
      let buffer = ""
      child.stdout!.on("data", (chunk: Buffer) => {
        buffer += chunk.toString()
        let i: number
        while ((i = buffer.indexOf("\n")) >= 0) {
          lines.push(buffer.slice(0, i))
          buffer = buffer.slice(i + 1)
        }
        for (const l of listeners) l()
      })
      let stderr = ""
      child.stderr!.on("data", (chunk: Buffer) => stderr += chunk.toString())
      const exited = new Promise<number | null>((resolve) =>
        child.on("exit", (code) => {
          if (code !== 0 && code !== null) process.stderr.write(stderr)
          resolve(code)
          for (const l of listeners) l()
        })
      )
      const waitFor = (predicate: (line: string) => boolean) =>
        Effect.async<string>((resume) => {
          const check = () => {
            const found = lines.find(predicate)
            if (found !== undefined) {
              listeners.delete(check)
              resume(Effect.succeed(found))
            } else if (child.exitCode !== null) {
              listeners.delete(check)
              resume(Effect.dieMessage(`worker exited (${child.exitCode}) without the line: ${stderr}`))
            }
          }
          listeners.add(check)
          check()
        })
      return {
        child,
        lines,
        waitFor,
        exit: Effect.promise(() => exited),
        go: Effect.sync(() => void child.stdin!.write("go\n"))
      }
    }),
    (w) => Effect.sync(() => w.child.exitCode === null && w.child.kill("SIGKILL"))
  )

const fingerprint = (token: Redacted.Redacted<string>) =>
  createHash("sha256").update(Redacted.value(token)).digest("hex").slice(0, 16)

const setup = (installations: number) =>
  Effect.gen(function*() {
    const sim = yield* GithubSimulator.make({ installationCount: installations, recordRequests: false })
    const server = yield* sim.server
    const env = {
      REDIS_URL: redisUrl!,
      FLEET_PREFIX: freshPrefix(),
      FLEET_TOKEN_KEY: Redacted.value(newKey()),
      FLEET_APP_ID: String(sim.app.id),
      FLEET_PRIVATE_KEY: Redacted.value(sim.app.privateKey),
      FLEET_BASE_URL: server.url,
      FLEET_INSTALLATIONS: String(installations)
    }
    return { sim, env }
  })

describe.skipIf(noRedis)("a fleet of worker processes sharing Redis", () => {
  it.live(
    "4 workers, 1,000 installations at once: exactly 1,000 mints, every worker holds the same valid tokens",
    () =>
      Effect.gen(function*() {
        const { env, sim } = yield* setup(1000)
        const workers = yield* Effect.forEach([1, 2, 3, 4], () => worker(env))
        yield* Effect.forEach(workers, (w) => w.waitFor((l) => l === "ready"))
        yield* Effect.forEach(workers, (w) => w.go)
        const results = yield* Effect.forEach(workers, (w) =>
          Effect.map(
            w.waitFor((l) => l.startsWith("{")),
            (l) => JSON.parse(l) as { held: Array<[number, string, number]>; elapsed: number }
          ), { concurrency: "unbounded" })
        assert.deepStrictEqual(
          yield* Effect.forEach(workers, (w) => w.exit),
          [0, 0, 0, 0]
        )
        assert.strictEqual(yield* sim.count(MINT), 1000)
        const active = new Map((yield* sim.activeTokens).map((t) => [fingerprint(t.token), t.installationId]))
        const first = new Map(results[0].held.map(([id, f]) => [id, f]))
        assert.strictEqual(first.size, 1000)
        for (const { held } of results) {
          assert.strictEqual(held.length, 1000)
          for (const [id, f] of held) {
            assert.strictEqual(active.get(f), id, `installation ${id}: not a live token of it`)
            assert.strictEqual(f, first.get(id))
          }
        }
        console.log(
          `fleet: 4 workers x 1000 installations, ${yield* sim.count(MINT)} POSTs, worker times ${
            results.map((r) => r.elapsed).join(", ")
          } ms`
        )
      }).pipe(Effect.scoped),
    300_000
  )

  it.live(
    "kill -9 of the lock holder mid-mint: another worker mints once its lock expires; nothing hangs",
    () =>
      Effect.gen(function*() {
        const { env, sim } = yield* setup(3)
        const holder = yield* worker({ ...env, FLEET_MODE: "hang", FLEET_HANG_ID: "2", FLEET_MINT_TIMEOUT: "1500" })
        yield* holder.waitFor((l) => l === "ready")
        yield* holder.go
        yield* holder.waitFor((l) => l === "minting")
        const other = yield* worker({ ...env, FLEET_MODE: "one", FLEET_HANG_ID: "2" })
        yield* other.waitFor((l) => l === "ready")
        yield* other.go
        holder.child.kill("SIGKILL")
        assert.strictEqual(yield* holder.exit, null)
        const result = JSON.parse(yield* other.waitFor((l) => l.startsWith("{"))) as { held: Array<[number, string]> }
        assert.strictEqual(yield* other.exit, 0)
        assert.strictEqual(yield* sim.count(MINT), 1)
        const active = new Map((yield* sim.activeTokens).map((t) => [fingerprint(t.token), t.installationId]))
        assert.strictEqual(active.get(result.held[0][1]), 2)
      }).pipe(Effect.scoped),
    120_000
  )
})
