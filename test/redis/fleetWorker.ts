/**
 * One worker of a fleet, as a real process: asks the shared Redis token store for tokens of installations
 * 1..FLEET_INSTALLATIONS at once (each miss minted through the Integration against the loopback simulator) after
 * "go" on stdin, and prints a JSON line of what it holds (token fingerprints, never tokens).
 * FLEET_MODE=hang: the mint of installation FLEET_HANG_ID never ends (it prints "minting" first), for kill -9.
 */
import { Integration } from "@effect-github/app"
import * as TokenStore from "@effect-github/app/TokenStore"
import { NodeIntegration } from "@effect-github/node"
import * as RedisStore from "@effect-github/redis/RedisStore"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { createHash } from "node:crypto"
import * as Readline from "node:readline"

const env = (name: string) => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const count = Number(env("FLEET_INSTALLATIONS"))
const mode = process.env.FLEET_MODE ?? "fleet"
const hangId = Number(process.env.FLEET_HANG_ID ?? "1")
const mintTimeout = Number(process.env.FLEET_MINT_TIMEOUT ?? "10000")

const github = NodeIntegration.layer({
  appId: Number(env("FLEET_APP_ID")),
  privateKey: Redacted.make(env("FLEET_PRIVATE_KEY")),
  baseUrl: env("FLEET_BASE_URL"),
  secondsBetweenRequests: 0,
  secondsBetweenWrites: 0,
  poolSize: 16
})
const store = RedisStore.layer({
  url: env("REDIS_URL"),
  prefix: env("FLEET_PREFIX"),
  keys: Redacted.make(env("FLEET_TOKEN_KEY")),
  pollInterval: "100 millis",
  timeout: "20 seconds"
})

const go = Effect.async<void>((resume) => {
  const rl = Readline.createInterface({ input: process.stdin })
  rl.on("line", (line) => {
    if (line.trim() === "go") {
      rl.close()
      resume(Effect.void)
    }
  })
})

const fingerprint = (token: Redacted.Redacted<string>) =>
  createHash("sha256").update(Redacted.value(token)).digest("hex").slice(0, 16)

const program = Effect.gen(function*() {
  const integration = yield* Integration.Integration
  const tokens = yield* TokenStore.TokenStore
  const ids = mode === "hang"
    ? [hangId]
    : mode === "one"
    ? [hangId]
    : Array.from({ length: count }, (_, i) => i + 1)
  process.stdout.write("ready\n")
  yield* go
  const started = yield* Clock.currentTimeMillis
  const held = yield* Effect.forEach(ids, (id) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      tokens.getOrMint(
        `installation:${id}`,
        { goodAfter: now + 60_000, mintTimeout },
        mode === "hang"
          ? Effect.zipRight(Effect.sync(() => process.stdout.write("minting\n")), Effect.never)
          : integration.getAccessToken(id)
      )).pipe(Effect.map((auth) => [id, fingerprint(auth.token), auth.expires_at.getTime()] as const)), {
    concurrency: 64
  })
  const elapsed = (yield* Clock.currentTimeMillis) - started
  process.stdout.write(`${JSON.stringify({ held, elapsed })}\n`)
})

Effect.runPromise(Effect.scoped(Effect.provide(program, Layer.merge(github, store)))).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  }
)
