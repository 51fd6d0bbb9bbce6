/**
 * Test helpers for the Redis stores: the real redis-server `.ci/run` starts (found by `REDIS_URL`), a fresh key
 * prefix per test, and throwaway redis-server processes for the outage scenarios.
 */
import { InstallationAuthorization } from "@effect-github/app/InstallationAuthorization"
import * as RedisClient from "@effect-github/redis/RedisClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { Redis } from "ioredis"
import * as ChildProcess from "node:child_process"
import * as Crypto from "node:crypto"
import * as Net from "node:net"

export const redisUrl = process.env.REDIS_URL
/** The Redis tests need a server: `.ci/run` starts one; locally see README "Running a fleet". */
export const noRedis = redisUrl === undefined || redisUrl === ""

export const freshPrefix = () => `test:${Crypto.randomBytes(6).toString("hex")}:`

export const clientLayer = (options: Partial<RedisClient.Options> = {}) =>
  RedisClient.layer({ url: redisUrl, prefix: freshPrefix(), ...options })

export const newKey = () => Redacted.make(Crypto.randomBytes(32).toString("base64"))

export const authorization = (token: string, expiresAt: number) =>
  new InstallationAuthorization({ token: Redacted.make(token), expires_at: new Date(expiresAt) })

/** A plain connection for looking at what is stored. */
export const raw = Effect.acquireRelease(
  Effect.sync(() => new Redis(redisUrl ?? "redis://127.0.0.1:6379")),
  (r) => Effect.promise(() => r.quit())
)

/** Every key under a prefix with its whole value, whatever its type. */
export const dump = (r: Redis, prefix: string) =>
  Effect.promise(async () => {
    const out: Array<{ key: string; value: string }> = []
    let cursor = "0"
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000)
      cursor = next
      for (const key of keys) {
        const type = await r.type(key)
        const value = type === "string"
          ? await r.get(key)
          : type === "hash"
          ? JSON.stringify(await r.hgetall(key))
          : type === "zset"
          ? JSON.stringify(await r.zrange(key, 0, -1, "WITHSCORES"))
          : `<${type}>`
        out.push({ key, value: value ?? "" })
      }
    } while (cursor !== "0")
    return out
  })

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = Net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      server.close(() => resolve(port))
    })
    server.on("error", reject)
  })

/** A redis-server of the test's own, on a free loopback port, that the test can stop and start again. */
export const ownServer = Effect.gen(function*() {
  const port = yield* Effect.promise(freePort)
  let child: ChildProcess.ChildProcess | undefined
  const start = Effect.promise(() =>
    new Promise<void>((resolve, reject) => {
      const proc = ChildProcess.spawn(
        "redis-server",
        ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        { stdio: ["ignore", "pipe", "ignore"] }
      )
      child = proc
      proc.on("error", reject)
      proc.stdout!.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("Ready to accept connections")) resolve()
      })
    })
  )
  const stop = Effect.promise(() =>
    new Promise<void>((resolve) => {
      const proc = child
      child = undefined
      if (proc === undefined || proc.exitCode !== null) return resolve()
      proc.on("exit", () => resolve())
      proc.kill("SIGKILL")
    })
  )
  yield* Effect.addFinalizer(() => stop)
  return { url: `redis://127.0.0.1:${port}`, start, stop }
})

/** A loopback port nothing listens on. */
export const deadUrl = Effect.map(Effect.promise(freePort), (port) => `redis://127.0.0.1:${port}`)

export const withClient = <A, E, R>(
  options: Partial<RedisClient.Options>,
  f: (layer: Layer.Layer<RedisClient.RedisClient>) => Effect.Effect<A, E, R>
) => f(clientLayer(options))

/** A service of a layer, built in the test's scope (`Effect.provide` would close it at once). */
export const build = <I, S, E>(tag: Context.Tag<I, S>, layer: Layer.Layer<I, E>) =>
  Effect.map(Layer.build(layer), Context.get(tag))
