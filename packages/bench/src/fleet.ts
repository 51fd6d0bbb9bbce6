/**
 * The fleet scenario: 4 worker processes ask at once for tokens of the same installations (default 1,000) from
 * the loopback simulator; POSTs counted at the simulator and the slowest worker's time, ours (tokens shared through
 * Redis) vs octokit (auth-app's in-memory cache in each process), and Redis round trips per cached get.
 * Needs a redis-server: `REDIS_URL=redis://127.0.0.1:6390 npx -y pnpm@10.34.8 bench:fleet [installations]`.
 *
 * @since 0.1.0
 */
import { GithubSimulator } from "@effect-github/testing"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { spawn } from "node:child_process"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const here = Path.dirname(fileURLToPath(import.meta.url))
const WORKERS = 4
const MINT = "POST /app/installations/{installation_id}/access_tokens"

interface Result {
  readonly ms: number
  readonly roundTripsPerCachedGet: number
}

const runWorkers = (env: Record<string, string>) =>
  Effect.promise(async () => {
    const children = Array.from({ length: WORKERS }, () =>
      spawn(process.execPath, ["--import", "tsx", Path.join(here, "fleet-worker.ts")], {
        env: { ...process.env, ...env },
        stdio: ["pipe", "pipe", "inherit"]
      }))
    const lines = children.map((child) => {
      const seen: Array<string> = []
      const waiters: Array<() => void> = []
      let buffer = ""
      child.stdout.on("data", (chunk: Buffer) => {
        buffer += chunk.toString()
        let i: number
        while ((i = buffer.indexOf("\n")) >= 0) {
          seen.push(buffer.slice(0, i))
          buffer = buffer.slice(i + 1)
          waiters.splice(0).forEach((w) =>
            w()
          )
        }
      })
      child.on("exit", () => waiters.splice(0).forEach((w) => w()))
      const next = (predicate: (line: string) => boolean) =>
        new Promise<string>((resolve, reject) => {
          const check = () => {
            const found = seen.find(predicate)
            if (found !== undefined) resolve(found)
            else if (child.exitCode !== null) reject(new Error(`a worker exited (${child.exitCode})`))
            else waiters.push(check)
          }
          check()
        })
      return next
    })
    await Promise.all(lines.map((next) => next((l) => l === "ready")))
    children.forEach((child) => child.stdin.write("go\n"))
    return Promise.all(lines.map(async (next) => JSON.parse(await next((l) => l.startsWith("{"))) as Result))
  })

const main = Effect.gen(function*() {
  const installations = Number(process.argv[2] ?? "1000")
  const redisUrl = process.env.REDIS_URL
  if (redisUrl === undefined) return yield* Effect.dieMessage("REDIS_URL is not set (see README, Running a fleet)")
  const sim = yield* GithubSimulator.make({ installationCount: installations, recordRequests: false })
  const server = yield* sim.server
  const base = {
    REDIS_URL: redisUrl,
    FLEET_APP_ID: String(sim.app.id),
    FLEET_PRIVATE_KEY: Redacted.value(sim.app.privateKey),
    FLEET_BASE_URL: server.url,
    FLEET_INSTALLATIONS: String(installations),
    FLEET_PREFIX: `bench:${Crypto.randomBytes(6).toString("hex")}:`,
    FLEET_TOKEN_KEY: Crypto.randomBytes(32).toString("base64")
  }
  const rows: Array<Record<string, string | number>> = []
  for (const runner of ["ours", "octokit"] as const) {
    yield* sim.resetRequests
    const results = yield* runWorkers({ ...base, FLEET_RUNNER: runner })
    const posts = yield* sim.count(MINT)
    rows.push({
      runner,
      workers: WORKERS,
      installations,
      posts,
      postsPerInstallation: posts / installations,
      slowestWorkerMs: Math.round(Math.max(...results.map((r) => r.ms))),
      redisRoundTripsPerCachedGet: runner === "ours" ? results[0].roundTripsPerCachedGet : "-"
    })
  }
  const header = Object.keys(rows[0])
  const table = [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${header.map((h) => r[h]).join(" | ")} |`)
  ].join("\n")
  console.log(table)
  const dir = Path.join(here, "..", "results")
  Fs.mkdirSync(dir, { recursive: true })
  Fs.writeFileSync(
    Path.join(dir, "fleet-latest.json"),
    JSON.stringify({ date: new Date().toISOString(), rows }, null, 2)
  )
  Fs.writeFileSync(Path.join(dir, "fleet-latest.md"), `${table}\n`)
})

Effect.runPromise(Effect.scoped(main)).then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
