/**
 * One process of the fleet benchmark: after "go" on stdin, takes tokens for installations 1..N (64 at a time) with
 * the runner named by FLEET_RUNNER, then prints one JSON line: its time, and for ours the Redis round trips of a
 * second pass over the same keys (every one a hit in Redis).
 * - ours: `@effect-github/redis`'s token store (one mint per key for the fleet), minting through the Integration;
 * - octokit: `@octokit/app` with auth-app's in-memory cache, one per process.
 *
 * @since 0.1.0
 */
import { Integration } from "@effect-github/app"
import * as TokenStore from "@effect-github/app/TokenStore"
import { NodeIntegration } from "@effect-github/node"
import * as RedisClient from "@effect-github/redis/RedisClient"
import * as RedisStore from "@effect-github/redis/RedisStore"
import { App } from "@octokit/app"
import { Octokit } from "@octokit/core"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import { performance } from "node:perf_hooks"
import * as Readline from "node:readline"
import { Agent, fetch as undiciFetch } from "undici"
import { pool } from "./scenarios.js"

const env = (name: string) => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}
const count = Number(env("FLEET_INSTALLATIONS"))
const ids = Array.from({ length: count }, (_, i) => i + 1)

const go = () =>
  new Promise<void>((resolve) => {
    const rl = Readline.createInterface({ input: process.stdin })
    rl.on("line", (line) => {
      if (line.trim() === "go") {
        rl.close()
        resolve()
      }
    })
  })

const ours = Effect.gen(function*() {
  const integration = yield* Integration.Integration
  const tokens = yield* TokenStore.TokenStore
  const get = (id: number) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      tokens.getOrMint(
        `installation:${id}`,
        { goodAfter: now + 60_000, mintTimeout: 30_000 },
        integration.getAccessToken(id)
      ))
  process.stdout.write("ready\n")
  yield* Effect.promise(go)
  const started = performance.now()
  yield* Effect.forEach(ids, get, { concurrency: 64, discard: true })
  const ms = performance.now() - started
  const before = (yield* Metric.value(RedisClient.roundTrips)).count
  yield* Effect.forEach(ids, get, { concurrency: 64, discard: true })
  const after = (yield* Metric.value(RedisClient.roundTrips)).count
  return { ms, roundTripsPerCachedGet: (after - before) / ids.length }
})

const runOurs = () =>
  Effect.runPromise(Effect.scoped(Effect.provide(
    ours,
    Layer.merge(
      NodeIntegration.layer({
        appId: Number(env("FLEET_APP_ID")),
        privateKey: Redacted.make(env("FLEET_PRIVATE_KEY")),
        baseUrl: env("FLEET_BASE_URL"),
        secondsBetweenRequests: 0,
        secondsBetweenWrites: 0,
        poolSize: 16
      }),
      RedisStore.layer({
        url: env("REDIS_URL"),
        prefix: env("FLEET_PREFIX"),
        keys: Redacted.make(env("FLEET_TOKEN_KEY")),
        timeout: "20 seconds"
      })
    )
  )))

const agent = new Agent({ connections: 16 })

const runOctokit = async () => {
  const app = new App({
    appId: Number(env("FLEET_APP_ID")),
    privateKey: env("FLEET_PRIVATE_KEY"),
    // the same 16 connections per process as ours (the global fetch would open one per request in flight)
    Octokit: Octokit.defaults({
      baseUrl: env("FLEET_BASE_URL"),
      request: {
        fetch: (url: string, init: RequestInit) =>
          undiciFetch(url, { ...(init as object), dispatcher: agent } as Parameters<typeof undiciFetch>[1])
      }
    })
  })
  process.stdout.write("ready\n")
  await go()
  const started = performance.now()
  await pool(ids.length, 64, (i) => app.octokit.auth({ type: "installation", installationId: ids[i]! }))
  return { ms: performance.now() - started, roundTripsPerCachedGet: 0 }
}
;(env("FLEET_RUNNER") === "ours" ? runOurs() : runOctokit()).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`)
    process.exit(0)
  },
  (error) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  }
)
